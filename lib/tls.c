/* tls: TLS through OpenSSL 3 opened at run time; see tls.h.
 *
 * The first half (options, pins, ALPN lists) needs no OpenSSL and is built
 * everywhere.  The second half is built against OpenSSL's headers, but every
 * call goes through one table of pointers filled by dlsym the first time an
 * applet asks for TLS: the #defines below make the calls read as OpenSSL's
 * own, macros of its headers included (SSL_CTX_set_min_proto_version is
 * SSL_CTX_ctrl, which is the table's). */
#include "tls.h"
#include "clock.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- options, pins, ALPN: no OpenSSL here ------------------------------- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char ch)
{
	const char *p = ch ? strchr(b64_alphabet, ch) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

void tls_pin_format(const unsigned char pin[TLS_PIN_LEN], char *out)
{
	char *o = out + sizeof "sha256//" - 1;

	memcpy(out, "sha256//", sizeof "sha256//" - 1);
	for (int i = 0; i < TLS_PIN_LEN; i += 3) {
		unsigned v = (unsigned)pin[i] << 16;
		int have = TLS_PIN_LEN - i;
		if (have > 1)
			v |= (unsigned)pin[i + 1] << 8;
		if (have > 2)
			v |= pin[i + 2];
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = have > 1 ? b64_alphabet[v >> 6 & 63] : '=';
		*o++ = have > 2 ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
}

/* curl's form: "sha256//" and the 44 characters of base64 (one '=') of 32
 * bytes, in canonical form (the bits the '=' pads are zero). */
int tls_pin_parse(const char *text, unsigned char pin[TLS_PIN_LEN], const char **why)
{
	const char *b = text + sizeof "sha256//" - 1;
	unsigned v = 0;
	int n = 0;

	if (strncmp(text, "sha256//", sizeof "sha256//" - 1) != 0) {
		*why = "a pin is sha256// and the base64 of a key's SHA-256";
		return -1;
	}
	if (strlen(b) != TLS_PIN_TEXT - (sizeof "sha256//" - 1) || b[43] != '=') {
		*why = "a pin's base64 is 44 characters ending in '='";
		return -1;
	}
	for (int i = 0; i < 43; i++) {
		int d = b64_value(b[i]);
		if (d < 0) {
			*why = "a pin's base64 holds a character outside A-Z a-z 0-9 + /";
			return -1;
		}
		v = v << 6 | (unsigned)d;
		if (++n == 4) {
			pin[i / 4 * 3] = (unsigned char)(v >> 16);
			pin[i / 4 * 3 + 1] = (unsigned char)(v >> 8);
			pin[i / 4 * 3 + 2] = (unsigned char)v;
			v = 0, n = 0;
		}
	}
	/* 43 characters: ten groups of four, then three for the last 2 bytes. */
	if (v & 3) {
		*why = "a pin's base64 is not in canonical form";
		return -1;
	}
	pin[30] = (unsigned char)(v >> 10);
	pin[31] = (unsigned char)(v >> 2);
	return 0;
}

/* "h2,http/1.1" into the wire form: each name preceded by its length. */
int tls_alpn_parse(const char *text, unsigned char *wire, unsigned *len, const char **why)
{
	size_t total = 0;
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, ",");
		if (n == 0) {
			*why = "an ALPN protocol name is empty";
			return -1;
		}
		if (n > 255) {
			*why = "an ALPN protocol name is longer than 255 bytes";
			return -1;
		}
		if (total + 1 + n > 255) {
			*why = "the ALPN list is longer than 255 bytes";
			return -1;
		}
		wire[total++] = (unsigned char)n;
		memcpy(wire + total, p, n);
		total += n;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*len = (unsigned)total;
	return 0;
}

int tls_version_parse(const char *text, int *version, const char **why)
{
	if (strcmp(text, "1.2") == 0)
		*version = 12;
	else if (strcmp(text, "1.3") == 0)
		*version = 13;
	else {
		*why = "the TLS version is 1.2 or 1.3";
		return -1;
	}
	return 0;
}

/* The option's name, for "--cacert needs --tls". */
static const char *option_name(int key)
{
	static const char *const names[] = {"--tls", "--cacert", "--capath", "--cert", "--key", "--servername",
					    "--insecure", "--pin", "--tls-min", "--alpn", "--client-ca"};
	return names[key - TLS_OPT_TLS];
}

int tls_option(struct tls_opts *o, int key, const char *arg)
{
	const char *why = NULL;

	if (key < TLS_OPT_TLS || key > TLS_OPT_CLIENT_CA)
		return 0;

	switch (key) {
	case TLS_OPT_TLS:
		o->on = 1;
		return 1;
	case TLS_OPT_CACERT: o->cacert = arg; break;
	case TLS_OPT_CAPATH: o->capath = arg; break;
	case TLS_OPT_CERT: o->cert = arg; break;
	case TLS_OPT_KEY: o->key = arg; break;
	case TLS_OPT_SERVERNAME:
		if (!*arg || strlen(arg) > 253)
			cli_usage_error("invalid --servername '%s'", arg);
		o->servername = arg;
		break;
	case TLS_OPT_CLIENT_CA: o->client_ca = arg; break;
	case TLS_OPT_INSECURE: o->insecure = 1; break;
	case TLS_OPT_PIN:
		if (o->npins == TLS_PINS_MAX)
			cli_usage_error("too many --pin (at most %d)", TLS_PINS_MAX);
		if (tls_pin_parse(arg, o->pins[o->npins], &why) < 0)
			cli_usage_error("invalid --pin '%s': %s", arg, why);
		o->npins++;
		break;
	case TLS_OPT_TLS_MIN:
		if (tls_version_parse(arg, &o->min_version, &why) < 0)
			cli_usage_error("invalid --tls-min '%s': %s", arg, why);
		break;
	case TLS_OPT_ALPN:
		if (tls_alpn_parse(arg, o->alpn, &o->alpn_len, &why) < 0)
			cli_usage_error("invalid --alpn '%s': %s", arg, why);
		break;
	}
	if (!o->first)
		o->first = option_name(key);
	return 1;
}

const char *tls_conflict(const struct tls_opts *o)
{
	if (o->insecure && o->npins)
		return "--insecure and --pin cannot be used together";
	if (o->key && !o->cert)
		return "--key needs --cert";
	if (o->cert && !o->key)
		return "--cert needs --key";
	return NULL;
}

#ifdef IPCBOX_NO_TLS
/* ---- the static build: no TLS ------------------------------------------- */

static int no_tls(char *err, size_t size)
{
	snprintf(err, size, "this build of ipcbox has no TLS (the static musl binary); use the "
			    "Debian package or a build against glibc");
	errno = ENOSYS;
	return -1;
}

int tls_load(char *err, size_t size) { return no_tls(err, size); }
struct tls_ctx *tls_ctx_client(const struct tls_opts *o, char *err, size_t size)
{
	(void)o;
	no_tls(err, size);
	return NULL;
}
struct tls_ctx *tls_ctx_server(const struct tls_opts *o, char *err, size_t size)
{
	(void)o;
	no_tls(err, size);
	return NULL;
}
const char *tls_ctx_pin(const struct tls_ctx *c) { (void)c; return ""; }
void tls_ctx_free(struct tls_ctx *c) { (void)c; }
struct tls *tls_open(struct tls_ctx *c, int fd, const char *host, char *err, size_t size)
{
	(void)c, (void)fd, (void)host;
	no_tls(err, size);
	return NULL;
}
int tls_handshake(struct tls *t, int64_t deadline, char *err, size_t size)
{
	(void)t, (void)deadline;
	return no_tls(err, size);
}
void tls_report(struct tls *t) { (void)t; }
ssize_t tls_read(struct tls *t, void *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	errno = ENOSYS;
	return -1;
}
ssize_t tls_write(struct tls *t, const void *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	errno = ENOSYS;
	return -1;
}
size_t tls_pending(struct tls *t) { (void)t; return 0; }
int tls_shutdown(struct tls *t) { (void)t; return 0; }
short tls_events(const struct tls *t) { (void)t; return POLLIN; }
const char *tls_error(const struct tls *t) { (void)t; return "no TLS"; }
int tls_fd(const struct tls *t) { (void)t; return -1; }
void tls_close(struct tls *t) { (void)t; }
void tls_env(struct tls *t, struct tls_env *e)
{
	(void)t;
	e->env[0] = NULL;
}

#else
/* ---- OpenSSL, through dlopen -------------------------------------------- */

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The ELF note that tells packaging tools about the dlopen (freedesktop
 * "ELF dlopen metadata": owner "FDO", type 0x407c0c0a, a JSON array). */
#define TLS_NOTE_JSON                                                                       \
	"[{\"soname\":[\"libssl.so.3\"],\"feature\":\"tls\",\"description\":\"TLS for tcp " \
	"--tls and mqtts:// channels\",\"priority\":\"recommended\"}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
	unsigned namesz, descsz, type;
	char name[4];
	char desc[(sizeof TLS_NOTE_JSON + 3) & ~3u];
} tls_dlopen_note = {4, sizeof TLS_NOTE_JSON, 0x407c0c0a, "FDO", TLS_NOTE_JSON};

/* Every OpenSSL function ipcbox calls: its name, once. */
#define TLS_FUNCS(X)                                                                              \
	X(TLS_client_method) X(TLS_server_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl)        \
	X(SSL_CTX_set_verify) X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_load_verify_locations)  \
	X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file)                        \
	X(SSL_CTX_check_private_key) X(SSL_CTX_use_certificate) X(SSL_CTX_use_PrivateKey)           \
	X(SSL_CTX_get0_certificate) X(SSL_load_client_CA_file) X(SSL_CTX_set_client_CA_list)       \
	X(SSL_CTX_set_alpn_protos) X(SSL_CTX_set_alpn_select_cb) X(SSL_select_next_proto)          \
	X(SSL_CTX_set_options) X(SSL_CTX_set_num_tickets) X(SSL_new) X(SSL_free) X(SSL_set_fd)     \
	X(SSL_ctrl) X(SSL_set1_host) X(SSL_get0_param) X(SSL_connect) X(SSL_accept) X(SSL_read_ex) \
	X(SSL_write_ex) X(SSL_get_error) X(SSL_shutdown) X(SSL_pending) X(SSL_get_verify_result)   \
	X(SSL_get_version) X(SSL_get_current_cipher) X(SSL_CIPHER_get_name)                         \
	X(SSL_get0_peer_certificate) X(SSL_get_servername) X(SSL_get0_alpn_selected)               \
	X(X509_VERIFY_PARAM_set1_ip_asc) X(X509_verify_cert_error_string) X(X509_get0_pubkey)       \
	X(i2d_PUBKEY) X(EVP_Digest) X(EVP_sha256) X(X509_get_subject_name) X(X509_NAME_print_ex)    \
	X(BIO_new) X(BIO_s_mem) X(BIO_ctrl) X(BIO_free) X(ERR_get_error) X(ERR_peek_error)         \
	X(ERR_reason_error_string) X(ERR_clear_error) X(EVP_PKEY_Q_keygen) X(EVP_PKEY_free)        \
	X(X509_new) X(X509_free) X(X509_set_version) X(X509_get_serialNumber) X(ASN1_INTEGER_set)  \
	X(X509_getm_notBefore) X(X509_getm_notAfter) X(X509_gmtime_adj) X(X509_set_pubkey)         \
	X(X509_NAME_add_entry_by_txt) X(X509_set_issuer_name) X(X509_sign) X(X509_get_ext_d2i)     \
	X(OPENSSL_sk_num) X(OPENSSL_sk_value) X(GENERAL_NAMES_free) X(ASN1_STRING_get0_data)        \
	X(ASN1_STRING_length) X(X509_STORE_CTX_get_error) X(X509_STORE_CTX_get_current_cert)         \
	X(X509_STORE_CTX_get_ex_data) X(SSL_get_ex_data_X509_STORE_CTX_idx) X(SSL_set_ex_data)     \
	X(SSL_get_ex_data) X(SSL_CTX_set_default_read_buffer_len) X(SSL_CTX_set_default_passwd_cb) \
	X(SSL_CTX_set_default_passwd_cb_userdata)

#define TLS_FIELD(f) __typeof__(f) *f;
static struct {
	void *lib;
	TLS_FUNCS(TLS_FIELD)
} T;

/* dlopen libssl (which brings libcrypto) and fill T; dlsym on its handle
 * searches both.  0, or -1 with the reason. */
int tls_load(char *err, size_t size)
{
	void *h;

	if (T.lib)
		return 0;
	h = dlopen(TLS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, size, "TLS needs %s, which cannot be loaded (install the Debian package %s): %s",
			 TLS_LIBRARY, TLS_PACKAGE, dlerror());
		return -1;
	}
#define TLS_SYM(f)                                                                                 \
	if (!(*(void **)&T.f = dlsym(h, #f))) {                                                    \
		snprintf(err, size, "%s lacks %s: ipcbox needs OpenSSL 3 (the Debian package %s)", \
			 TLS_LIBRARY, #f, TLS_PACKAGE);                                            \
		dlclose(h);                                                                        \
		return -1;                                                                         \
	}
	TLS_FUNCS(TLS_SYM)
#undef TLS_SYM
	T.lib = h;
	return 0;
}

/* From here on, OpenSSL's names are the table's. */
#define TLS_client_method (*T.TLS_client_method)
#define TLS_server_method (*T.TLS_server_method)
#define SSL_CTX_new (*T.SSL_CTX_new)
#define SSL_CTX_free (*T.SSL_CTX_free)
#define SSL_CTX_ctrl (*T.SSL_CTX_ctrl)
#define SSL_CTX_set_verify (*T.SSL_CTX_set_verify)
#define SSL_CTX_set_default_verify_paths (*T.SSL_CTX_set_default_verify_paths)
#define SSL_CTX_load_verify_locations (*T.SSL_CTX_load_verify_locations)
#define SSL_CTX_use_certificate_chain_file (*T.SSL_CTX_use_certificate_chain_file)
#define SSL_CTX_use_PrivateKey_file (*T.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_check_private_key (*T.SSL_CTX_check_private_key)
#define SSL_CTX_use_certificate (*T.SSL_CTX_use_certificate)
#define SSL_CTX_use_PrivateKey (*T.SSL_CTX_use_PrivateKey)
#define SSL_CTX_get0_certificate (*T.SSL_CTX_get0_certificate)
#define SSL_load_client_CA_file (*T.SSL_load_client_CA_file)
#define SSL_CTX_set_client_CA_list (*T.SSL_CTX_set_client_CA_list)
#define SSL_CTX_set_alpn_protos (*T.SSL_CTX_set_alpn_protos)
#define SSL_CTX_set_alpn_select_cb (*T.SSL_CTX_set_alpn_select_cb)
#define SSL_select_next_proto (*T.SSL_select_next_proto)
#define SSL_CTX_set_options (*T.SSL_CTX_set_options)
#define SSL_CTX_set_num_tickets (*T.SSL_CTX_set_num_tickets)
#define SSL_new (*T.SSL_new)
#define SSL_free (*T.SSL_free)
#define SSL_set_fd (*T.SSL_set_fd)
#define SSL_ctrl (*T.SSL_ctrl)
#define SSL_set1_host (*T.SSL_set1_host)
#define SSL_get0_param (*T.SSL_get0_param)
#define SSL_connect (*T.SSL_connect)
#define SSL_accept (*T.SSL_accept)
#define SSL_read_ex (*T.SSL_read_ex)
#define SSL_write_ex (*T.SSL_write_ex)
#define SSL_get_error (*T.SSL_get_error)
#define SSL_shutdown (*T.SSL_shutdown)
#define SSL_pending (*T.SSL_pending)
#define SSL_get_verify_result (*T.SSL_get_verify_result)
#define SSL_get_version (*T.SSL_get_version)
#define SSL_get_current_cipher (*T.SSL_get_current_cipher)
#define SSL_CIPHER_get_name (*T.SSL_CIPHER_get_name)
#define SSL_get0_peer_certificate (*T.SSL_get0_peer_certificate)
#define SSL_get_servername (*T.SSL_get_servername)
#define SSL_get0_alpn_selected (*T.SSL_get0_alpn_selected)
#define X509_VERIFY_PARAM_set1_ip_asc (*T.X509_VERIFY_PARAM_set1_ip_asc)
#define X509_verify_cert_error_string (*T.X509_verify_cert_error_string)
#define X509_get0_pubkey (*T.X509_get0_pubkey)
#define i2d_PUBKEY (*T.i2d_PUBKEY)
#define EVP_Digest (*T.EVP_Digest)
#define EVP_sha256 (*T.EVP_sha256)
#define X509_get_subject_name (*T.X509_get_subject_name)
#define X509_NAME_print_ex (*T.X509_NAME_print_ex)
#define BIO_new (*T.BIO_new)
#define BIO_s_mem (*T.BIO_s_mem)
#define BIO_ctrl (*T.BIO_ctrl)
#define BIO_free (*T.BIO_free)
#define ERR_get_error (*T.ERR_get_error)
#define ERR_peek_error (*T.ERR_peek_error)
#define ERR_reason_error_string (*T.ERR_reason_error_string)
#define ERR_clear_error (*T.ERR_clear_error)
#define EVP_PKEY_Q_keygen (*T.EVP_PKEY_Q_keygen)
#define EVP_PKEY_free (*T.EVP_PKEY_free)
#define X509_new (*T.X509_new)
#define X509_free (*T.X509_free)
#define X509_set_version (*T.X509_set_version)
#define X509_get_serialNumber (*T.X509_get_serialNumber)
#define ASN1_INTEGER_set (*T.ASN1_INTEGER_set)
#define X509_getm_notBefore (*T.X509_getm_notBefore)
#define X509_getm_notAfter (*T.X509_getm_notAfter)
#define X509_gmtime_adj (*T.X509_gmtime_adj)
#define X509_set_pubkey (*T.X509_set_pubkey)
#define X509_NAME_add_entry_by_txt (*T.X509_NAME_add_entry_by_txt)
#define X509_set_issuer_name (*T.X509_set_issuer_name)
#define X509_sign (*T.X509_sign)
#define X509_get_ext_d2i (*T.X509_get_ext_d2i)
#define OPENSSL_sk_num (*T.OPENSSL_sk_num)
#define OPENSSL_sk_value (*T.OPENSSL_sk_value)
#define GENERAL_NAMES_free (*T.GENERAL_NAMES_free)
#define ASN1_STRING_get0_data (*T.ASN1_STRING_get0_data)
#define ASN1_STRING_length (*T.ASN1_STRING_length)
#define X509_STORE_CTX_get_error (*T.X509_STORE_CTX_get_error)
#define X509_STORE_CTX_get_current_cert (*T.X509_STORE_CTX_get_current_cert)
#define X509_STORE_CTX_get_ex_data (*T.X509_STORE_CTX_get_ex_data)
#define SSL_get_ex_data_X509_STORE_CTX_idx (*T.SSL_get_ex_data_X509_STORE_CTX_idx)
#define SSL_set_ex_data (*T.SSL_set_ex_data)
#define SSL_get_ex_data (*T.SSL_get_ex_data)
#define SSL_CTX_set_default_read_buffer_len (*T.SSL_CTX_set_default_read_buffer_len)
#define SSL_CTX_set_default_passwd_cb (*T.SSL_CTX_set_default_passwd_cb)
#define SSL_CTX_set_default_passwd_cb_userdata (*T.SSL_CTX_set_default_passwd_cb_userdata)

#define TLS_READ_BUF (256 * 1024)

struct tls_ctx {
	SSL_CTX *ctx;
	const struct tls_opts *o;
	int server;
	char pin[TLS_PIN_TEXT + 1]; /* a server's own */
};

struct tls {
	SSL *ssl;
	struct tls_ctx *c;
	int fd;
	short want;               /* what the last EAGAIN waits for */
	char host[256];           /* the name or address checked */
	char names[256];          /* the names of a certificate that did not match */
	char err[TLS_ERR_MAX];
};

/* The reason of the first error OpenSSL queued, in its words, or dflt. */
static const char *openssl_reason(const char *dflt)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : dflt;
}

/* The SHA-256 of a certificate's SubjectPublicKeyInfo (DER). */
static int cert_pin(X509 *x, unsigned char pin[TLS_PIN_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	int ok;

	if (n <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)n, pin, &mdlen, EVP_sha256(), NULL);
	free(der); /* OPENSSL_malloc is malloc unless an application changed it */
	return ok && mdlen == TLS_PIN_LEN ? 0 : -1;
}

/* A certificate's subject, RFC 2253, in out (one line). */
static void cert_subject(X509 *x, char *out, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;

	out[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0 && data)
			snprintf(out, size, "%.*s", (int)n, data);
	}
	BIO_free(b);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* The DNS and IP names of a certificate, "DNS:a, IP:1.2.3.4", for the
 * message when they do not match. */
static void cert_names(X509 *x, char *out, size_t size)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; names && i < OPENSSL_sk_num((const OPENSSL_STACK *)names); i++) {
		const GENERAL_NAME *g = OPENSSL_sk_value((const OPENSSL_STACK *)names, i);
		char one[300] = "";
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			snprintf(one, sizeof one, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName), (const char *)d);
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.iPAddress);
			char text[INET6_ADDRSTRLEN] = "?";
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress),
					  text, sizeof text);
			snprintf(one, sizeof one, "IP:%s", text);
		}
		if (one[0] && used + strlen(one) + 3 < size)
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", one);
	}
	if (names)
		GENERAL_NAMES_free(names);
	if (!out[0]) {
		char subject[256];
		cert_subject(x, subject, sizeof subject);
		snprintf(out, size, "no DNS or IP name (subject %.200s)", subject);
	}
}

/* OpenSSL's verification goes on as it decided; this only keeps the names
 * of a server certificate that does not match, for the message (after a
 * failed handshake the peer's certificate is no longer to be had). */
static int verify_note(int ok, X509_STORE_CTX *sctx)
{
	int e = X509_STORE_CTX_get_error(sctx);
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls *t = ssl ? SSL_get_ex_data(ssl, 0) : NULL;

	if (!ok && t && (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH))
		cert_names(X509_STORE_CTX_get_current_cert(sctx), t->names, sizeof t->names);
	return ok;
}

/* Load what the options name into a new context.  -1 with err. */
static int ctx_trust(SSL_CTX *ctx, const char *cafile, const char *capath, char *err, size_t size)
{
	if (cafile || capath) {
		if (SSL_CTX_load_verify_locations(ctx, cafile, capath) != 1) {
			snprintf(err, size, "cannot load CA certificates from %s: %s", cafile ? cafile : capath,
				 openssl_reason("unreadable"));
			return -1;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, size, "cannot load the system's trusted certificates: %s", openssl_reason("unknown"));
		return -1;
	}
	return 0;
}

/* OpenSSL's pass phrase callback: no prompt, ever (a script has no one to
 * answer it); an encrypted key just fails to load. */
static int no_pass_phrase(char *buf, int size, int rwflag, void *arg)
{
	int *asked = arg;

	(void)buf, (void)size, (void)rwflag;
	if (asked)
		*asked = 1;
	return 0;
}

static int ctx_certificate(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t size)
{
	int asked = 0;

	SSL_CTX_set_default_passwd_cb(ctx, no_pass_phrase);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, size, "cannot use certificate %s: %s", cert, openssl_reason("unreadable"));
		return -1;
	}
	int loaded = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL); /* asked is about to go */
	if (loaded != 1) {
		if (asked)
			snprintf(err, size, "cannot use key %s: it is encrypted, and ipcbox asks for no pass phrase "
					    "(openssl pkey -in KEY -out PLAIN decrypts a copy)", key);
		else
			snprintf(err, size, "cannot use key %s: %s", key, openssl_reason("unreadable"));
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, size, "key %s does not match certificate %s", key, cert);
		return -1;
	}
	return 0;
}

/* A self-signed P-256 certificate, valid from an hour ago for 30 days,
 * for a listener without --cert. */
static int ctx_ephemeral(SSL_CTX *ctx, char *err, size_t size)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = key ? X509_new() : NULL;
	int ok = 0;

	if (x) {
		X509_NAME *name = X509_get_subject_name(x);
		ok = X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid()) &&
		     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		     X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) && X509_set_pubkey(x, key) &&
		     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"ipcbox ephemeral",
						-1, -1, 0) &&
		     X509_set_issuer_name(x, name) && X509_sign(x, key, EVP_sha256()) > 0 &&
		     SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
	}
	if (!ok)
		snprintf(err, size, "cannot make an ephemeral certificate: %s", openssl_reason("unknown"));
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

/* A server's ALPN choice: the first of our protocols the client offers. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		       unsigned int inlen, void *arg)
{
	const struct tls_opts *o = arg;
	unsigned char *chosen;

	(void)ssl;
	if (SSL_select_next_proto(&chosen, outlen, o->alpn, o->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

static struct tls_ctx *ctx_new(const struct tls_opts *o, int server, char *err, size_t size)
{
	struct tls_ctx *c;

	if (tls_load(err, size) < 0)
		return NULL;
	ERR_clear_error();
	c = calloc(1, sizeof *c);
	if (!c || !(c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()))) {
		snprintf(err, size, "cannot set up TLS: %s", c ? openssl_reason("out of memory") : "out of memory");
		free(c);
		return NULL;
	}
	c->o = o;
	c->server = server;
	SSL_CTX_set_min_proto_version(c->ctx, o->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	/* Writes return once a record is out: the relay moves its offset on. */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read ahead into a 256 KiB buffer: a record's header and body in one
	 * read(2), and many records in one when they are there (1 GiB
	 * received: 0.20 s of system time against 0.57 s without). */
	SSL_CTX_set_read_ahead(c->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(c->ctx, TLS_READ_BUF);
	return c;
}

struct tls_ctx *tls_ctx_client(const struct tls_opts *o, char *err, size_t size)
{
	struct tls_ctx *c = ctx_new(o, 0, err, size);

	if (!c)
		return NULL;
	if (o->insecure || o->npins) {
		/* A pin is checked after the handshake, before any data. */
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_note);
		if (ctx_trust(c->ctx, o->cacert, o->capath, err, size) < 0)
			goto fail;
	}
	if (o->cert && ctx_certificate(c->ctx, o->cert, o->key, err, size) < 0)
		goto fail;
	if (o->alpn_len && SSL_CTX_set_alpn_protos(c->ctx, o->alpn, o->alpn_len) != 0) {
		snprintf(err, size, "cannot set ALPN: %s", openssl_reason("unknown"));
		goto fail;
	}
	return c;
fail:
	tls_ctx_free(c);
	return NULL;
}

struct tls_ctx *tls_ctx_server(const struct tls_opts *o, char *err, size_t size)
{
	struct tls_ctx *c = ctx_new(o, 1, err, size);
	unsigned char pin[TLS_PIN_LEN];

	if (!c)
		return NULL;
	if (o->cert ? ctx_certificate(c->ctx, o->cert, o->key, err, size) : ctx_ephemeral(c->ctx, err, size))
		goto fail;
	if (cert_pin(SSL_CTX_get0_certificate(c->ctx), pin) == 0)
		tls_pin_format(pin, c->pin);
	/* No session tickets: nothing resumes, and a ticket unread by a client
	 * that closes at once can turn its close into a reset that loses data. */
	SSL_CTX_set_num_tickets(c->ctx, 0);
	if (o->client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
		if (!names || ctx_trust(c->ctx, o->client_ca, NULL, err, size) < 0) {
			if (!names)
				snprintf(err, size, "cannot load client CA certificates from %s: %s", o->client_ca,
					 openssl_reason("no certificate in it"));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(c->ctx, names);
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (o->alpn_len)
		SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, (void *)o);
	return c;
fail:
	tls_ctx_free(c);
	return NULL;
}

const char *tls_ctx_pin(const struct tls_ctx *c)
{
	return c->pin;
}

void tls_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

struct tls *tls_open(struct tls_ctx *c, int fd, const char *host, char *err, size_t size)
{
	struct tls *t = calloc(1, sizeof *t);
	const struct tls_opts *o = c->o;

	if (!t || !(t->ssl = SSL_new(c->ctx)) || SSL_set_fd(t->ssl, fd) != 1) {
		snprintf(err, size, "cannot set up TLS: %s", openssl_reason("out of memory"));
		if (t && t->ssl)
			SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	t->c = c;
	t->fd = fd;
	t->want = POLLIN;
	SSL_set_ex_data(t->ssl, 0, t);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* OpenSSL writes with write(2): a peer gone must be EPIPE, not a
	 * signal (sigev ignores it too; a command run later gets it back). */
	signal(SIGPIPE, SIG_IGN);
	if (!c->server) {
		const char *name = o->servername ? o->servername : host;
		int ip = is_ip_literal(name);
		snprintf(t->host, sizeof t->host, "%s", name);
		/* SNI for names only: RFC 6066 has no place for an address. */
		if (!ip && SSL_set_tlsext_host_name(t->ssl, name) != 1)
			goto fail;
		if (!o->insecure && !o->npins &&
		    (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name)
			: SSL_set1_host(t->ssl, name)) != 1)
			goto fail;
	}
	return t;
fail:
	snprintf(err, size, "cannot use the name '%s' for TLS: %s", t->host, openssl_reason("invalid"));
	tls_close(t);
	return NULL;
}

/* The words for a failed certificate verification. */
static void verify_failure(struct tls *t, long v, char *err, size_t size)
{
	const struct tls_opts *o = t->c->o;

	switch (v) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(err, size, "certificate verify failed: the certificate is for %s, not %s%s",
			 t->names[0] ? t->names : "other names", t->host,
			 o->servername ? "" : " (--servername NAME checks another name)");
		return;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		snprintf(err, size, "certificate verify failed: %s; %s", X509_verify_cert_error_string(v),
			 o->cacert || o->capath ? "it is not signed by a CA of --cacert/--capath"
						: "--cacert FILE names your CA");
		return;
	}
	snprintf(err, size, "certificate verify failed: %s", X509_verify_cert_error_string(v));
}

/* The words for a handshake that failed with SSL_get_error() == e, errno
 * sys_err. */
static void handshake_failure(struct tls *t, int e, int sys_err, char *err, size_t size)
{
	long v = SSL_get_verify_result(t->ssl);
	unsigned long code = ERR_peek_error();
	int reason = ERR_GET_REASON(code);

	if (!t->c->server && v != X509_V_OK && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		verify_failure(t, v, err, size);
		return;
	}
	if (e == SSL_ERROR_SYSCALL && sys_err && sys_err != EPIPE) {
		snprintf(err, size, "TLS handshake failed: %s", io_strerror(sys_err));
		return;
	}
	if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
	    reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(err, size, "the peer closed the connection during the TLS handshake");
		return;
	}
	if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
	    reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_WRONG_SSL_VERSION) {
		snprintf(err, size, "TLS handshake failed: %s (this side accepts TLS %s and later)",
			 openssl_reason("protocol version"), t->c->o->min_version == 13 ? "1.3" : "1.2");
		return;
	}
	if (t->c->server && v != X509_V_OK && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		snprintf(err, size, "client certificate verify failed: %s", X509_verify_cert_error_string(v));
		return;
	}
	snprintf(err, size, "TLS handshake failed: %s", openssl_reason("protocol error"));
}

/* With --pin: the peer's key must be one of them. */
static int check_pins(struct tls *t, char *err, size_t size)
{
	const struct tls_opts *o = t->c->o;
	X509 *peer = SSL_get0_peer_certificate(t->ssl);
	unsigned char pin[TLS_PIN_LEN];
	char seen[TLS_PIN_TEXT + 1];

	if (!peer || cert_pin(peer, pin) < 0) {
		snprintf(err, size, "pin mismatch: the peer showed no certificate");
		return -1;
	}
	for (unsigned i = 0; i < o->npins; i++)
		if (memcmp(pin, o->pins[i], TLS_PIN_LEN) == 0)
			return 0;
	tls_pin_format(pin, seen);
	snprintf(err, size, "pin mismatch: the peer's key is %s", seen);
	return -1;
}

int tls_handshake(struct tls *t, int64_t deadline, char *err, size_t size)
{
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int rc = t->c->server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
		int sys_err = errno;
		if (rc == 1)
			break;
		int e = SSL_get_error(t->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			handshake_failure(t, e, sys_err, err, size);
			errno = EPROTO;
			return -1;
		}
		int k = io_wait_fd(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (k == 0) {
			snprintf(err, size, "the TLS handshake did not finish in time");
			errno = ETIMEDOUT;
			return -1;
		}
		if (k < 0) {
			snprintf(err, size, "TLS handshake: %s", io_strerror(errno));
			return -1;
		}
	}
	if (!t->c->server && t->c->o->npins && check_pins(t, err, size) < 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

void tls_report(struct tls *t)
{
	X509 *peer = SSL_get0_peer_certificate(t->ssl);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;

	cli_warn("TLS protocol %s", SSL_get_version(t->ssl));
	cli_warn("TLS cipher %s", SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl)));
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
	if (alpn_len)
		cli_warn("TLS ALPN %.*s", (int)alpn_len, (const char *)alpn);
	if (!t->c->server && t->c->o->insecure)
		cli_warn("TLS peer not verified (--insecure)");
	if (peer) {
		char subject[256], pin_text[TLS_PIN_TEXT + 1];
		unsigned char pin[TLS_PIN_LEN];
		cert_subject(peer, subject, sizeof subject);
		cli_warn("TLS peer subject %s", subject);
		if (cert_pin(peer, pin) == 0) {
			tls_pin_format(pin, pin_text);
			cli_warn("TLS peer pin %s", pin_text);
		}
	}
}

/* After SSL_read_ex/SSL_write_ex returned 0: -1 with errno, t->want and
 * t->err set; 0 for a clean close_notify (reads only). */
static int io_failure(struct tls *t, int rc)
{
	int e = SSL_get_error(t->ssl, rc);
	int saved = errno;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		errno = saved ? saved : EPIPE;
		snprintf(t->err, sizeof t->err, "%s", io_strerror(errno));
		return -1;
	}
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		errno = EPIPE;
		snprintf(t->err, sizeof t->err, "the peer closed the connection without close_notify");
		return -1;
	}
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
		snprintf(t->err, sizeof t->err, "the peer refused the connection: it requires a client certificate "
						"(--cert FILE --key FILE)");
	else
		snprintf(t->err, sizeof t->err, "TLS: %s", openssl_reason("protocol error"));
	errno = EPROTO;
	return -1;
}

ssize_t tls_read(struct tls *t, void *buf, size_t len)
{
	size_t n = 0;

	ERR_clear_error();
	errno = 0;
	if (SSL_read_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	return io_failure(t, 0);
}

ssize_t tls_write(struct tls *t, const void *buf, size_t len)
{
	size_t n = 0;

	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(t->ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	if (io_failure(t, 0) == 0)
		errno = EPIPE; /* no write after the peer's close_notify in 1.2 */
	return -1;
}

size_t tls_pending(struct tls *t)
{
	return (size_t)SSL_pending(t->ssl);
}

int tls_shutdown(struct tls *t)
{
	ERR_clear_error();
	errno = 0;
	int rc = SSL_shutdown(t->ssl);
	if (rc >= 0)
		return 0;
	return io_failure(t, rc) == 0 ? 0 : -1;
}

short tls_events(const struct tls *t)
{
	return t->want;
}

const char *tls_error(const struct tls *t)
{
	return t->err[0] ? t->err : io_strerror(errno);
}

int tls_fd(const struct tls *t)
{
	return t->fd;
}

void tls_close(struct tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Add "NAME=value" to e at *n. */
static void env_add(struct tls_env *e, int *n, const char *name, const char *value)
{
	snprintf(e->buf[*n], sizeof e->buf[*n], "%s=%s", name, value);
	e->env[*n] = e->buf[*n];
	(*n)++;
}

void tls_env(struct tls *t, struct tls_env *e)
{
	X509 *peer = SSL_get0_peer_certificate(t->ssl);
	const char *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	int n = 0;

	env_add(e, &n, "TLS_PROTOCOL", SSL_get_version(t->ssl));
	env_add(e, &n, "TLS_CIPHER", SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl)));
	if (sni && t->c->server)
		env_add(e, &n, "TLS_SNI", sni);
	if (peer) {
		char subject[256], pin_text[TLS_PIN_TEXT + 1];
		unsigned char pin[TLS_PIN_LEN];
		cert_subject(peer, subject, sizeof subject);
		env_add(e, &n, "TLS_PEER_SUBJECT", subject);
		if (cert_pin(peer, pin) == 0) {
			tls_pin_format(pin, pin_text);
			env_add(e, &n, "TLS_PEER_PIN", pin_text);
		}
	}
	e->env[n] = NULL;
}

#endif
