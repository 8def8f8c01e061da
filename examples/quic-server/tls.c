// SPDX-License-Identifier: MIT
/*
 * TLS 1.3 through GnuTLS, as ngtcp2_crypto_gnutls wants it.
 *
 * Without --cert and --key the server makes its own certificate at
 * start-up: a P-256 key and a self-signed certificate for "localhost" and
 * 127.0.0.1 / ::1, valid from an hour ago for ten years. Nothing is
 * written to disk; a client that checks certificates must be told to
 * accept it (gtlsclient only reports what it finds and goes on).
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "quic-server.h"

/* TLS 1.3 only, the cipher suites and groups QUIC allows. */
#define QS_PRIORITY \
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"

static int tls_fail(const char *what, int rv)
{
	qs_warn("%s: %s", what, gnutls_strerror(rv));
	return -1;
}

static int make_certificate(struct qs_server *s)
{
	static const uint8_t ip4[4] = { 127, 0, 0, 1 };
	static const uint8_t ip6[16] = { [15] = 1 };
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	uint8_t serial[16];
	time_t now = time(NULL);
	int rv;

	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial))
		return tls_fail("getrandom", GNUTLS_E_RANDOM_FAILED);
	serial[0] &= 0x7f;	/* a positive integer */
	if ((rv = gnutls_x509_privkey_init(&key)) ||
	    (rv = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) ||
	    (rv = gnutls_x509_crt_init(&crt)) ||
	    (rv = gnutls_x509_crt_set_version(crt, 3)) ||
	    (rv = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) ||
	    (rv = gnutls_x509_crt_set_activation_time(crt, now - 3600)) ||
	    (rv = gnutls_x509_crt_set_expiration_time(crt,
			now + 10 * 365 * 24 * 3600)) ||
	    (rv = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
			0, "localhost", 9)) ||
	    (rv = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
			"localhost", 9, GNUTLS_FSAN_APPEND)) ||
	    (rv = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
			ip4, sizeof(ip4), GNUTLS_FSAN_APPEND)) ||
	    (rv = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
			ip6, sizeof(ip6), GNUTLS_FSAN_APPEND)) ||
	    (rv = gnutls_x509_crt_set_key(crt, key)) ||
	    (rv = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) ||
	    (rv = gnutls_x509_crt_set_key_usage(crt,
			GNUTLS_KEY_DIGITAL_SIGNATURE)) ||
	    (rv = gnutls_x509_crt_set_key_purpose_oid(crt,
			GNUTLS_KP_TLS_WWW_SERVER, 0)) ||
	    (rv = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) ||
	    (rv = gnutls_certificate_set_x509_key(s->cred, &crt, 1, key))) {
		gnutls_x509_crt_deinit(crt);
		gnutls_x509_privkey_deinit(key);
		return tls_fail("self-signed certificate", rv);
	}
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return 0;
}

int qs_tls_init(struct qs_server *s)
{
	int rv = gnutls_certificate_allocate_credentials(&s->cred);

	if (rv)
		return tls_fail("gnutls_certificate_allocate_credentials", rv);
	if (!s->cfg.cert_file)
		return make_certificate(s);
	rv = gnutls_certificate_set_x509_key_file(s->cred, s->cfg.cert_file,
						  s->cfg.key_file,
						  GNUTLS_X509_FMT_PEM);
	if (rv)
		return tls_fail(s->cfg.cert_file, rv);
	return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct qs_conn *c = ref->user_data;

	return c->conn;
}

int qs_tls_session(struct qs_server *s, struct qs_conn *c)
{
	gnutls_datum_t alpn = { (unsigned char *)"h3", 2 };
	int rv;

	rv = gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NO_END_OF_EARLY_DATA);
	if (rv)
		return tls_fail("gnutls_init", rv);
	if ((rv = gnutls_priority_set_direct(c->tls, QS_PRIORITY, NULL)) ||
	    (rv = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
					 s->cred)) ||
	    (rv = gnutls_alpn_set_protocols(c->tls, &alpn, 1,
					    GNUTLS_ALPN_MANDATORY)))
		return tls_fail("TLS session", rv);
	c->conn_ref.get_conn = get_conn;
	c->conn_ref.user_data = c;
	gnutls_session_set_ptr(c->tls, &c->conn_ref);
	if (ngtcp2_crypto_gnutls_configure_server_session(c->tls)) {
		qs_warn("ngtcp2_crypto_gnutls_configure_server_session failed");
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	return 0;
}
