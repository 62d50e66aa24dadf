#!/bin/sh
# Makes the TLS tests' certificates with openssl, at test time, into $1 (the
# build directory): no key is ever committed. ECDSA P-256 throughout.
#
#   ca.pem ca.key          the test CA (what the clients trust)
#   server.pem server.key  localhost, 127.0.0.1, ::1 (as iPAddress names)
#                          and *.wild.test, signed by the CA; chain.pem is
#                          it followed by the CA
#   expired.pem/.key       the same names, valid in January 2020 only
#   wronghost.pem/.key     for wrong.example only
#   selfsigned.pem/.key    the same names, signed by itself
#   other-ca.pem, unknown.pem/.key   a CA nobody trusts, and a cert it signed
#   server.der, server-key.der       server.pem and its key in DER
#
# Usage: make_certs.sh DIR  (makes it once: the files stay until DIR goes)
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -f done ] && exit 0

names="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.wild.test"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ext() { # $1 file, $2 SAN
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$2" >"$1"
}
ca() { # $1 name
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=linger test $1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem" 2>/dev/null
}
leaf() { # $1 name, $2 CA, $3 SAN, $4 CN
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$4" -out "$1.csr" 2>/dev/null
  ext "$1.ext" "$3"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 \
    -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

ca ca
ca other-ca
leaf server ca "$names" localhost
leaf wronghost ca "DNS:wrong.example" wrong.example
leaf unknown other-ca "$names" localhost
cat server.pem ca.pem >chain.pem
openssl x509 -in server.pem -outform DER -out server.der
openssl pkey -in server.key -outform DER -out server-key.der 2>/dev/null

# Self-signed: a leaf that signs itself.
key selfsigned.key
ext selfsigned.ext "$names"
openssl req -x509 -new -key selfsigned.key -sha256 -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=$names" -out selfsigned.pem 2>/dev/null

# Expired: `openssl ca` can set dates in the past (x509 -req cannot, before
# OpenSSL 3.4).
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
ext expired.ext "$names"
mkdir -p ca-db
: >ca-db/index.txt
cat >ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
CNF
echo 1000 >ca-db/serial
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
  -startdate 20200101000000Z -enddate 20200201000000Z -extfile expired.ext \
  -out expired.pem >/dev/null 2>&1
# (openssl ca writes text before the PEM block; keep the block only)
openssl x509 -in expired.pem -out expired.pem
touch done
