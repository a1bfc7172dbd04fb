# For bats files that need certificates: load tls_helpers (after helpers).
#
# make_pki DIR: a test PKI in DIR, made with the openssl command (P-256 keys,
# SHA-256 signatures).  DIR is created if missing.  Its files, a stable
# interface other helpers rely on:
#   ca.pem ca.key            a CA, "CN=ipcbox test CA"
#   server.pem server.key    signed by ca: DNS:localhost, IP:127.0.0.1,
#                            serverAuth, "CN=localhost"
#   other.pem other.key      signed by ca: DNS:other.test only, serverAuth
#   expired.pem expired.key  signed by ca for localhost and 127.0.0.1, valid
#                            from 2020-01-01 to 2020-01-02 only
#   client.pem client.key    signed by ca: clientAuth, "CN=ipcbox test client"
#   ca2.pem ca2.key          a second CA, unrelated to ca
# Every file is mode 0644 and DIR 0755, so that a daemon started as root that
# drops to its own user (mosquitto) can read them where it can reach DIR.
# Keys are never committed: the PKI is made once per bats file (the first
# call, in $BATS_FILE_TMPDIR, which bats removes) and copied into DIR.
#
# pin_of CERT: the certificate's public-key pin in curl's form,
# sha256//BASE64 of the SHA-256 of its DER SubjectPublicKeyInfo.

# make_pki DIR (see above).
make_pki() {
	local dir=$1 cache=${BATS_FILE_TMPDIR:-}/pki
	if [ -z "${BATS_FILE_TMPDIR:-}" ]; then
		pki_make "$dir"
		return
	fi
	if [ ! -s "$cache/ca2.pem" ]; then
		local tmp
		tmp=$(mktemp -d "$BATS_FILE_TMPDIR/pki.XXXXXX")
		pki_make "$tmp"
		# another test of the same file may have won the race: keep one
		mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
	fi
	mkdir -p "$dir"
	chmod 0755 "$dir"
	cp -p "$cache"/*.pem "$cache"/*.key "$dir/"
}

# pki_ext FILE LINE...: an extensions file for openssl x509 -extfile.
pki_ext() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

# pki_ca DIR NAME CN: a self-signed CA, DIR/NAME.pem and DIR/NAME.key.
pki_ca() {
	timeout -k 5 "$TMO" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
		-subj "/CN=$3" -days 30 -sha256 -keyout "$1/$2.key" -out "$1/$2.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>"$1/openssl.err"
}

# pki_csr DIR NAME CN: a P-256 key DIR/NAME.key and a request DIR/NAME.csr.
pki_csr() {
	timeout -k 5 "$TMO" openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
		-subj "/CN=$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>"$1/openssl.err"
}

# pki_sign DIR NAME SERIAL EXTFILE: DIR/NAME.csr signed by DIR/ca for 30 days.
pki_sign() {
	timeout -k 5 "$TMO" openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
		-set_serial "$3" -days 30 -sha256 -extfile "$4" -out "$1/$2.pem" 2>"$1/openssl.err"
}

# pki_sign_expired DIR NAME EXTFILE: DIR/NAME.csr signed by DIR/ca, valid
# only in 2020 (openssl x509 has no start date before 3.4: openssl ca does).
pki_sign_expired() {
	local d=$1
	mkdir -p "$d/ca.db/new"
	: >"$d/ca.db/index.txt"
	echo 1000 >"$d/ca.db/serial"
	cat >"$d/ca.db/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $d/ca.db/index.txt
new_certs_dir = $d/ca.db/new
serial = $d/ca.db/serial
default_md = sha256
policy = test_policy
unique_subject = no
[ test_policy ]
commonName = supplied
EOF
	timeout -k 5 "$TMO" openssl ca -batch -notext -config "$d/ca.db/ca.cnf" \
		-cert "$d/ca.pem" -keyfile "$d/ca.key" -in "$d/$2.csr" -out "$d/$2.pem" \
		-startdate 20200101000000Z -enddate 20200102000000Z -extfile "$3" 2>"$d/openssl.err"
}

# pki_make DIR: make every file of make_pki in DIR.
pki_make() {
	local d=$1 leaf='basicConstraints=CA:FALSE' use='keyUsage=critical,digitalSignature'
	mkdir -p "$d"
	if ! {
		pki_ext "$d/server.ext" "$leaf" "$use" extendedKeyUsage=serverAuth \
			subjectAltName=DNS:localhost,IP:127.0.0.1 &&
			pki_ext "$d/other.ext" "$leaf" "$use" extendedKeyUsage=serverAuth \
				subjectAltName=DNS:other.test &&
			pki_ext "$d/client.ext" "$leaf" "$use" extendedKeyUsage=clientAuth &&
			pki_ca "$d" ca "ipcbox test CA" &&
			pki_ca "$d" ca2 "ipcbox unrelated CA" &&
			pki_csr "$d" server localhost &&
			pki_sign "$d" server 11 "$d/server.ext" &&
			pki_csr "$d" other other.test &&
			pki_sign "$d" other 12 "$d/other.ext" &&
			pki_csr "$d" client "ipcbox test client" &&
			pki_sign "$d" client 13 "$d/client.ext" &&
			pki_csr "$d" expired localhost &&
			pki_sign_expired "$d" expired "$d/server.ext"
	}; then
		echo "make_pki: openssl failed:" >&2
		cat "$d/openssl.err" >&2
		return 1
	fi
	rm -rf "$d"/*.csr "$d"/*.ext "$d/openssl.err" "$d/ca.db"
	chmod 0755 "$d"
	chmod 0644 "$d"/*.pem "$d"/*.key
}

# pin_of CERT (see above).
pin_of() {
	local b64
	b64=$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64) || return 1
	echo "sha256//$b64"
}
