// qt_peer: a small Qt 5 program the shm/sem tests talk to, using Qt's own
// QSharedMemory and QSystemSemaphore with legacy string keys, exactly as a
// Qt application would.  Synchronisation with the test is through files:
// the peer creates READY when it has reached the state the test waits for,
// and polls for the file the test creates to let it go on.
//
//   qt_peer create  KEY SIZE TEXT READY GO    create, write TEXT, wait for GO
//   qt_peer hold    KEY SIZE READY GO         create, write 'A's, lock(), touch
//                                             READY, wait for GO, write 'B's, unlock()
//   qt_peer flip    KEY SIZE READY STOP       create, then until STOP: lock(),
//                                             fill with 'A' (or 'B') one page at
//                                             a time, unlock()
//   qt_peer acquire KEY READY OUT             QSystemSemaphore(KEY, 0, Create),
//                                             touch READY, acquire(), write OUT
//   qt_peer attach  KEY OUT                   attach(), lock(), copy the bytes up
//                                             to the first NUL into OUT, detach()
//
// Exit 0 on success, 1 with a message on stderr on failure, 2 on bad usage.
#include <QCoreApplication>
#include <QFile>
#include <QSharedMemory>
#include <QSystemSemaphore>
#include <QThread>

#include <cstdio>
#include <cstring>

static int fail(const char *what, const QString &why)
{
	fprintf(stderr, "qt_peer: %s: %s\n", what, qPrintable(why));
	return 1;
}

static void touch(const char *path, const QByteArray &data = QByteArray("ok\n"))
{
	// write to a temporary name and rename, so a poller never sees half a file
	QString tmp = QString::fromLocal8Bit(path) + ".tmp";
	QFile f(tmp);
	f.open(QIODevice::WriteOnly);
	f.write(data);
	f.close();
	QFile::rename(tmp, QString::fromLocal8Bit(path));
}

static void wait_file(const char *path)
{
	while (!QFile::exists(QString::fromLocal8Bit(path)))
		QThread::msleep(5);
}

static void fill(QSharedMemory &shm, char c)
{
	char *p = static_cast<char *>(shm.data());
	for (int off = 0; off < shm.size(); off += 4096) {
		int n = shm.size() - off < 4096 ? shm.size() - off : 4096;
		memset(p + off, c, n);
		QThread::yieldCurrentThread();
	}
}

static int cmd_create(char **argv)
{
	QSharedMemory shm(QString::fromUtf8(argv[2]));
	if (!shm.create(atoi(argv[3])))
		return fail("create", shm.errorString());
	shm.lock();
	strncpy(static_cast<char *>(shm.data()), argv[4], shm.size());
	shm.unlock();
	touch(argv[5]);
	wait_file(argv[6]);
	return 0;
}

static int cmd_hold(char **argv)
{
	QSharedMemory shm(QString::fromUtf8(argv[2]));
	if (!shm.create(atoi(argv[3])))
		return fail("create", shm.errorString());
	shm.lock();
	fill(shm, 'A');
	touch(argv[4]);
	wait_file(argv[5]);
	fill(shm, 'B');
	shm.unlock();
	return 0;
}

static int cmd_flip(char **argv)
{
	QSharedMemory shm(QString::fromUtf8(argv[2]));
	if (!shm.create(atoi(argv[3])))
		return fail("create", shm.errorString());
	shm.lock();
	fill(shm, 'A');
	shm.unlock();
	touch(argv[4]);
	for (unsigned long i = 0; !QFile::exists(QString::fromLocal8Bit(argv[5])); i++) {
		shm.lock();
		fill(shm, i % 2 ? 'A' : 'B');
		shm.unlock();
	}
	return 0;
}

static int cmd_acquire(char **argv)
{
	QSystemSemaphore sem(QString::fromUtf8(argv[2]), 0, QSystemSemaphore::Create);
	if (sem.error() != QSystemSemaphore::NoError)
		return fail("semaphore", sem.errorString());
	touch(argv[3]);
	if (!sem.acquire())
		return fail("acquire", sem.errorString());
	touch(argv[4], "acquired\n");
	return 0;
}

static int cmd_attach(char **argv)
{
	QSharedMemory shm(QString::fromUtf8(argv[2]));
	if (!shm.attach(QSharedMemory::ReadOnly))
		return fail("attach", shm.errorString());
	shm.lock();
	const char *p = static_cast<const char *>(shm.constData());
	QByteArray data(p, static_cast<int>(strnlen(p, shm.size())));
	shm.unlock();
	touch(argv[3], data);
	return 0;
}

int main(int argc, char **argv)
{
	QCoreApplication app(argc, argv);
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "create") && argc == 7)
		return cmd_create(argv);
	if (!strcmp(cmd, "hold") && argc == 6)
		return cmd_hold(argv);
	if (!strcmp(cmd, "flip") && argc == 6)
		return cmd_flip(argv);
	if (!strcmp(cmd, "acquire") && argc == 5)
		return cmd_acquire(argv);
	if (!strcmp(cmd, "attach") && argc == 4)
		return cmd_attach(argv);
	fprintf(stderr, "usage: qt_peer create|hold|flip|acquire|attach ...\n");
	return 2;
}
