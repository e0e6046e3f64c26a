#!/usr/bin/env bash
# Makes a throwaway certificate authority and certificates for local TLS: the client port of
# the packet service (TLS for game clients) and mutual TLS between the services.
# For development and tests only: production certificates come from the studio's own CA.
#
#   scripts/dev-certs.sh [DIR]      # default DIR: ./dev-certs (ignored by git)
#
# Writes, in DIR (keys mode 0600):
#   ca.pem, ca-key.pem          the local CA (trust ca.pem in clients and services)
#   server.pem, server-key.pem  a server certificate for localhost, 127.0.0.1 and ::1
#                               (extra names: DEV_CERT_NAMES="game.example.test,10.0.0.5")
#   client.pem, client-key.pem  a client certificate (CN "mmo-internal") for mutual TLS
# Existing files are kept: delete DIR to start over.
set -euo pipefail
dir=${1:-dev-certs}
days=${DEV_CERT_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 077

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days "$days" \
    -subj "/CN=MMO development CA" -keyout ca-key.pem -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue NAME CN EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
  [ -f "$1.pem" ] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$2" \
    -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$3"
    [ -n "$4" ] && echo "subjectAltName=$4"
  } >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

sans="DNS:localhost,IP:127.0.0.1,IP:::1"
IFS=',' read -r -a extra <<<"${DEV_CERT_NAMES:-}"
for name in "${extra[@]}"; do
  [ -z "$name" ] && continue
  if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then sans+=",IP:$name"; else sans+=",DNS:$name"; fi
done
# The server certificate also works as a client certificate so one pair can serve a service's
# both sides of mutual TLS.
issue server localhost "serverAuth,clientAuth" "$sans"
issue client mmo-internal "clientAuth" ""
chmod 644 ca.pem server.pem client.pem
echo "certificates in $(pwd): ca.pem server.pem server-key.pem client.pem client-key.pem"
