// qt_tls_peer: Qt's QSslSocket for tests/tls.bats, built against Qt 5 and
// Qt 6 like qt_peer.cpp.
//
//   qt_tls_peer client HOST PORT CAFILE PEERNAME [EXPECT]
//   qt_tls_peer server CERT KEY PORTFILE [EXPECT]
//
// client: connectToHostEncrypted(HOST, PORT) verifying the server against
// CAFILE and PEERNAME.  server: a QTcpServer on 127.0.0.1 port 0 (the port
// written into PORTFILE) whose one connection is a QSslSocket started with
// startServerEncryption and CERT/KEY.
// Either side sends all of stdin once encrypted and prints what it receives
// on stdout.  With EXPECT, once the data received contains it, it ends the
// connection itself (disconnectFromHost: close_notify, then the TCP close);
// without, it reads until the peer ends.  Exit 0 at the end of the
// connection, 1 on a TLS or socket error (said on stderr), 3 if the peer
// ended before EXPECT arrived.
#include <QCoreApplication>
#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <cstdio>

static QByteArray in_data, got, expect;

// The PEM file's text, or exit 1.
static QByteArray slurp(const QString &path)
{
	QFile f(path);
	if (!f.open(QIODevice::ReadOnly)) {
		fprintf(stderr, "qt_tls_peer: cannot read %s\n", qPrintable(path));
		exit(1);
	}
	return f.readAll();
}

// Wire the data rules of the header to a socket, encrypted or not yet.
static void serve(QSslSocket *s)
{
	QObject::connect(s, &QSslSocket::encrypted, [s]() { s->write(in_data); });
	QObject::connect(s, &QSslSocket::readyRead, [s]() {
		QByteArray b = s->readAll();
		fwrite(b.constData(), 1, b.size(), stdout);
		fflush(stdout);
		got += b;
		if (!expect.isEmpty() && got.contains(expect))
			s->disconnectFromHost();
	});
	QObject::connect(s, &QSslSocket::disconnected, []() {
		QCoreApplication::exit(expect.isEmpty() || got.contains(expect) ? 0 : 3);
	});
	QObject::connect(s, QOverload<const QList<QSslError> &>::of(&QSslSocket::sslErrors), [](const QList<QSslError> &errs) {
		for (const QSslError &e : errs)
			fprintf(stderr, "qt_tls_peer: %s\n", qPrintable(e.errorString()));
		QCoreApplication::exit(1);
	});
	QObject::connect(s, &QAbstractSocket::errorOccurred, [s](QAbstractSocket::SocketError e) {
		if (e == QAbstractSocket::RemoteHostClosedError) {
			// the peer's close_notify or TCP close: Qt reports it and
			// waits; a Qt program closes then (without close_notify)
			s->disconnectFromHost();
			return;
		}
		fprintf(stderr, "qt_tls_peer: %s\n", qPrintable(s->errorString()));
		QCoreApplication::exit(1);
	});
}

// A QTcpServer whose connections are QSslSockets with our certificate.
class TlsServer : public QTcpServer {
public:
	QSslCertificate cert;
	QSslKey key;

protected:
	void incomingConnection(qintptr fd) override
	{
		QSslSocket *s = new QSslSocket(this);
		if (!s->setSocketDescriptor(fd)) {
			fprintf(stderr, "qt_tls_peer: setSocketDescriptor failed\n");
			QCoreApplication::exit(1);
			return;
		}
		s->setLocalCertificate(cert);
		s->setPrivateKey(key);
		serve(s);
		s->startServerEncryption();
		close(); // one connection
	}
};

int main(int argc, char **argv)
{
	QCoreApplication app(argc, argv);
	QStringList a = app.arguments();
	if (a.size() < 5 || (a[1] != "client" && a[1] != "server")) {
		fprintf(stderr, "usage: qt_tls_peer client HOST PORT CAFILE PEERNAME [EXPECT]\n"
				"       qt_tls_peer server CERT KEY PORTFILE [EXPECT]\n");
		return 2;
	}
	QFile in;
	if (!in.open(stdin, QIODevice::ReadOnly))
		return 1;
	in_data = in.readAll();
	if (a[1] == "client") {
		if (a.size() < 6)
			return 2;
		if (a.size() > 6)
			expect = a[6].toUtf8();
		QSslSocket s;
		QSslConfiguration conf = s.sslConfiguration();
		conf.setCaCertificates(QSslCertificate::fromData(slurp(a[4]), QSsl::Pem));
		s.setSslConfiguration(conf);
		serve(&s);
		s.connectToHostEncrypted(a[2], a[3].toUShort(), a[5]);
		return app.exec();
	}
	if (a.size() > 5)
		expect = a[5].toUtf8();
	TlsServer server;
	server.cert = QSslCertificate(slurp(a[2]), QSsl::Pem);
	server.key = QSslKey(slurp(a[3]), QSsl::Ec, QSsl::Pem);
	if (server.cert.isNull() || server.key.isNull()) {
		fprintf(stderr, "qt_tls_peer: unusable certificate or key\n");
		return 1;
	}
	if (!server.listen(QHostAddress::LocalHost, 0)) {
		fprintf(stderr, "qt_tls_peer: listen: %s\n", qPrintable(server.errorString()));
		return 1;
	}
	QFile pf(a[4] + ".tmp");
	if (!pf.open(QIODevice::WriteOnly) || pf.write(QByteArray::number(server.serverPort()) + "\n") < 0)
		return 1;
	pf.close();
	if (!QFile::rename(a[4] + ".tmp", a[4]))
		return 1;
	return app.exec();
}
