// qt_peer: a small Qt program (built against Qt 5 and against Qt 6) the
// shm/sem and unix socket tests talk to, using Qt's own QSharedMemory and
// QSystemSemaphore with legacy string keys, and QLocalServer/QLocalSocket,
// exactly as a Qt application would.  No Q_OBJECT (no moc): the blocking
// waitFor* calls of QLocalSocket need no event loop.  Synchronisation with the test is through files:
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
//   qt_peer version                           print the Qt version it runs on
//   qt_peer lserver NAME READY OUT [abstract] QLocalServer on NAME (abstract:
//                                             AbstractNamespaceOption, Qt 6.2+);
//                                             touch READY with fullServerName();
//                                             one client: read one line, save it
//                                             in OUT, reply "qt got: LINE\n",
//                                             disconnectFromServer()
//   qt_peer lclient NAME OUT [abstract]       QLocalSocket to NAME: send
//                                             "from qt\n", then read until the
//                                             server closes, save what came in OUT
//
// Exit 0 on success, 1 with a message on stderr on failure, 2 on bad usage.
#include <QCoreApplication>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
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

static int cmd_lserver(int argc, char **argv)
{
	QLocalServer server;
	if (argc == 6) {
#if QT_VERSION >= QT_VERSION_CHECK(6, 2, 0)
		server.setSocketOptions(QLocalServer::AbstractNamespaceOption);
#else
		return fail("lserver", "AbstractNamespaceOption needs Qt 6.2");
#endif
	}
	if (!server.listen(QString::fromLocal8Bit(argv[2])))
		return fail("listen", server.errorString());
	touch(argv[3], server.fullServerName().toLocal8Bit() + "\n");
	if (!server.waitForNewConnection(-1))
		return fail("accept", server.errorString());
	QLocalSocket *c = server.nextPendingConnection();
	while (!c->canReadLine())
		if (!c->waitForReadyRead(-1))
			return fail("read", c->errorString());
	QByteArray line = c->readLine();
	touch(argv[4], line);
	c->write("qt got: " + line);
	if (!c->waitForBytesWritten(-1))
		return fail("write", c->errorString());
	c->disconnectFromServer();
	if (c->state() != QLocalSocket::UnconnectedState)
		c->waitForDisconnected(-1);
	return 0;
}

static int cmd_lclient(int argc, char **argv)
{
	QLocalSocket s;
	if (argc == 5) {
#if QT_VERSION >= QT_VERSION_CHECK(6, 2, 0)
		s.setSocketOptions(QLocalSocket::AbstractNamespaceOption);
#else
		return fail("lclient", "AbstractNamespaceOption needs Qt 6.2");
#endif
	}
	s.connectToServer(QString::fromLocal8Bit(argv[2]));
	if (!s.waitForConnected(-1))
		return fail("connect", s.errorString());
	s.write("from qt\n");
	if (!s.waitForBytesWritten(-1))
		return fail("write", s.errorString());
	// the server's half-close reaches Qt as the end of the connection:
	// PeerClosedError, state Unconnected; what came before stays readable
	QByteArray got;
	while (s.state() == QLocalSocket::ConnectedState) {
		s.waitForReadyRead(-1);
		got += s.readAll();
	}
	got += s.readAll();
	touch(argv[3], got);
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
	if (!strcmp(cmd, "version") && argc == 2)
		return printf("%s\n", qVersion()) < 0;
	if (!strcmp(cmd, "lserver") && (argc == 5 || (argc == 6 && !strcmp(argv[5], "abstract"))))
		return cmd_lserver(argc, argv);
	if (!strcmp(cmd, "lclient") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "abstract"))))
		return cmd_lclient(argc, argv);
	fprintf(stderr, "usage: qt_peer create|hold|flip|acquire|attach|version|lserver|lclient ...\n");
	return 2;
}
