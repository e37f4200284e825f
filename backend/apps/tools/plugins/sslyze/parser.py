"""Parser of SSLyze's JSON report (`sslyze --json_out`, sslyze 6.x).

SSLyze's JSON holds raw scan results; the Mozilla "intermediate" verdict it prints is not in it.
The parser applies the same checks as sslyze's own `mozilla_tls_profile` (profile 5.7), one
finding per failed check and server, with an explicit severity for each:

- critical: Heartbleed.
- high: SSL 2.0 or 3.0 accepted; OpenSSL CCS injection; ROBOT with a strong oracle; an expired
  certificate; NULL, anonymous, export, RC4, DES/3DES or MD5 cipher suites.
- medium: TLS 1.0 or 1.1 accepted; an untrusted or self-signed certificate; an RSA key under
  2048 bits; a SHA-1/MD5 signature; insecure renegotiation; TLS compression (CRIME); a DH group
  under 2048 bits; ROBOT with a weak oracle; a certificate not yet valid.
- low: other cipher suites outside the profile; no TLS_FALLBACK_SCSV; no Extended Master
  Secret; HSTS missing or with a short max-age; a certificate valid for more than 366 days;
  client-initiated renegotiation; an ECDH curve under 256 bits; a certificate curve or
  signature algorithm outside the profile.
- info: key-exchange curves outside the profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from apps.tools.plugins.base import (
    FindingData,
    ParseError,
    Severity,
    as_int,
    as_list,
    as_text,
    expect,
    load_json,
)

# Mozilla "intermediate" profile 5.7 (the one sslyze 6.3 ships in mozilla_tls_profile/5.7.json).
PROFILE_CIPHERS = frozenset(
    {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    }
)
PROFILE_TLS13_CIPHERS = frozenset(
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
)
PROFILE_CURVES = frozenset({"X25519", "prime256v1", "secp256r1", "secp384r1"})
PROFILE_CERT_CURVES = frozenset({"prime256v1", "secp256r1", "secp384r1"})
PROFILE_SIGNATURES = frozenset(
    {"sha256WithRSAEncryption", "ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"}
)
RSA_MIN_BITS = 2048
DH_MIN_BITS = 2048
ECDH_MIN_BITS = 256
HSTS_MIN_AGE = 63072000
MAX_CERT_LIFESPAN_DAYS = 366
#: Markers of cipher suites that are broken, not merely outside the profile.
WEAK_CIPHER_MARKERS = ("_NULL_", "_anon_", "_EXPORT", "_RC4_", "_DES_", "_DES40_", "3DES", "_MD5")
PROTOCOLS = (
    ("ssl_2_0_cipher_suites", "SSL 2.0", "sslv2", Severity.HIGH),
    ("ssl_3_0_cipher_suites", "SSL 3.0", "sslv3", Severity.HIGH),
    ("tls_1_0_cipher_suites", "TLS 1.0", "tlsv1_0", Severity.MEDIUM),
    ("tls_1_1_cipher_suites", "TLS 1.1", "tlsv1_1", Severity.MEDIUM),
    ("tls_1_2_cipher_suites", "TLS 1.2", "", None),
    ("tls_1_3_cipher_suites", "TLS 1.3", "", None),
)
MOZILLA_REF = "https://ssl-config.mozilla.org/"
MAX_SERVERS = 100


def parse_report(stream: IO[bytes], *, max_bytes: int, **_) -> Iterator[FindingData]:
    report = expect(load_json(stream, max_bytes), dict, "sslyze report")
    if "server_scan_results" not in report:
        raise ParseError("sslyze report has no server_scan_results")
    results = expect(report["server_scan_results"], list, "sslyze server_scan_results")
    if len(results) > MAX_SERVERS:
        raise ParseError(f"sslyze report has more than {MAX_SERVERS} servers")
    scanned_at = _date(report.get("date_scans_started"))
    for result in results:
        result = expect(result, dict, "sslyze server result")
        if result.get("connectivity_status") != "COMPLETED":
            continue
        location = expect(result.get("server_location"), dict, "sslyze server_location")
        host = as_text(location.get("hostname"), 253)
        port = as_int(location.get("port"))
        if not host or port is None:
            raise ParseError("sslyze server result without hostname or port")
        scan = expect(result.get("scan_result"), dict, "sslyze scan_result")
        server = _Server(host, port, as_text(location.get("ip_address"), 64), scan)
        yield from server.findings(scanned_at)


class _Server:
    def __init__(self, host: str, port: int, ip: str, scan: dict):
        self.host, self.port, self.ip, self.scan = host, port, ip, scan

    def result(self, name: str) -> dict | None:
        """The `result` of one scan command, None when it was not run or failed."""
        attempt = self.scan.get(name)
        if not isinstance(attempt, dict) or attempt.get("status") != "COMPLETED":
            return None
        result = attempt.get("result")
        return result if isinstance(result, dict) else None

    def finding(
        self,
        check: str,
        title: str,
        severity: Severity,
        description: str,
        *,
        cwe: int | None = None,
        remediation: str = "",
        **extra: Any,
    ) -> FindingData:
        where = f"[{self.host}]" if ":" in self.host else self.host
        return FindingData(
            title=f"{title} ({where}:{self.port})"[:300],
            severity=severity,
            rule_id=check,
            description=description,
            cwe=cwe,
            url=f"https://{where}:{self.port}/",
            remediation=remediation,
            references=[MOZILLA_REF],
            extra={"host": self.host, "port": self.port, "ip_address": self.ip, **extra},
        )

    def findings(self, scanned_at: datetime | None) -> Iterator[FindingData]:
        yield from self._certificates(scanned_at)
        yield from self._protocols_and_ciphers()
        yield from self._curves()
        yield from self._vulnerabilities()
        yield from self._hsts()

    # --- certificates ---------------------------------------------------------------------
    def _certificates(self, scanned_at: datetime | None) -> Iterator[FindingData]:
        info = self.result("certificate_info")
        if info is None:
            return
        seen: set[str] = set()
        for deployment in as_list(info.get("certificate_deployments")):
            if not isinstance(deployment, dict):
                continue
            chain = [c for c in as_list(deployment.get("received_certificate_chain")) if c]
            leaf = chain[0] if chain and isinstance(chain[0], dict) else {}
            for finding in self._certificate(deployment, leaf, scanned_at):
                if finding.rule_id not in seen:
                    seen.add(finding.rule_id)
                    yield finding

    def _certificate(
        self, deployment: dict, leaf: dict, scanned_at: datetime | None
    ) -> Iterator[FindingData]:
        subject = as_text(_get(leaf, "subject", "rfc4514_string"), 500)
        issuer = as_text(_get(leaf, "issuer", "rfc4514_string"), 500)
        if not deployment.get("verified_certificate_chain"):
            errors = sorted(
                {
                    as_text(r.get("validation_error"), 500)
                    for r in as_list(deployment.get("path_validation_results"))
                    if isinstance(r, dict) and r.get("validation_error")
                }
            )
            self_signed = bool(subject) and subject == issuer
            title = "Self-signed certificate" if self_signed else "Untrusted certificate chain"
            yield self.finding(
                "certificate_path_validation",
                title,
                Severity.MEDIUM,
                f"Certificate path validation failed for {subject or 'the leaf certificate'}"
                f" against every trust store." + (f"\n\n{errors[0]}" if errors else ""),
                cwe=295,
                remediation="Serve a certificate issued by a publicly trusted CA, with the full "
                "intermediate chain.",
                subject=subject,
                issuer=issuer,
                validation_errors=errors[:5],
            )
        not_after = _date(leaf.get("not_valid_after"))
        not_before = _date(leaf.get("not_valid_before"))
        if scanned_at and not_after and not_after < scanned_at:
            yield self.finding(
                "certificate_expired",
                "Expired certificate",
                Severity.HIGH,
                f"The certificate of {subject} expired on {not_after.isoformat()}.",
                cwe=298,
                remediation="Renew the certificate.",
                not_valid_after=not_after.isoformat(),
            )
        elif scanned_at and not_before and not_before > scanned_at:
            yield self.finding(
                "certificate_not_yet_valid",
                "Certificate not yet valid",
                Severity.MEDIUM,
                f"The certificate of {subject} is valid from {not_before.isoformat()} only.",
                cwe=298,
            )
        if not_after and not_before and (not_after - not_before).days > MAX_CERT_LIFESPAN_DAYS:
            yield self.finding(
                "maximum_certificate_lifespan",
                "Certificate life span too long",
                Severity.LOW,
                f"The certificate is valid for {(not_after - not_before).days} days; the profile "
                f"allows at most {MAX_CERT_LIFESPAN_DAYS}.",
            )
        key = leaf.get("public_key") if isinstance(leaf.get("public_key"), dict) else {}
        algorithm = as_text(key.get("algorithm"), 100)
        size = as_int(key.get("key_size"))
        if algorithm.startswith("RSA") and size and size < RSA_MIN_BITS:
            yield self.finding(
                "rsa_key_size",
                f"RSA key of {size} bits",
                Severity.HIGH if size < 1024 else Severity.MEDIUM,
                f"The certificate's RSA key has {size} bits; at least {RSA_MIN_BITS} are needed.",
                cwe=326,
                key_size=size,
            )
        curve = as_text(key.get("curve_name") or _get(key, "curve", "name"), 100)
        if algorithm.startswith("EllipticCurve") and curve and curve not in PROFILE_CERT_CURVES:
            yield self.finding(
                "certificate_curves",
                f"Certificate key on curve {curve}",
                Severity.LOW,
                f"The certificate's key uses {curve}; the profile expects P-256 or P-384.",
                curve=curve,
            )
        digest = as_text(_get(leaf, "signature_hash_algorithm", "name"), 50).lower()
        signature = as_text(_get(leaf, "signature_algorithm_oid", "name"), 100)
        if digest in ("md5", "sha1") or deployment.get("verified_chain_has_sha1_signature"):
            yield self.finding(
                "certificate_signature_weak",
                f"Certificate signed with {digest.upper() or 'SHA-1'}",
                Severity.MEDIUM,
                f"The certificate chain uses a broken signature hash ({signature or digest}).",
                cwe=327,
            )
        elif signature and signature not in PROFILE_SIGNATURES:
            yield self.finding(
                "certificate_signatures",
                f"Certificate signature {signature}",
                Severity.LOW,
                f"The certificate is signed with {signature}, outside the profile's "
                f"{', '.join(sorted(PROFILE_SIGNATURES))}.",
            )

    # --- protocols and cipher suites --------------------------------------------------------
    def _protocols_and_ciphers(self) -> Iterator[FindingData]:
        suites: set[str] = set()
        tls13_suites: set[str] = set()
        smallest_dh: int | None = None
        smallest_ecdh: int | None = None
        for field, name, check, severity in PROTOCOLS:
            result = self.result(field)
            if result is None or result.get("is_tls_version_supported") is not True:
                continue
            accepted = [a for a in as_list(result.get("accepted_cipher_suites")) if a]
            names = sorted(
                as_text(_get(entry, "cipher_suite", "name"), 100)
                for entry in accepted
                if isinstance(entry, dict)
            )
            if severity is not None:
                yield self.finding(
                    f"protocol_{check}",
                    f"{name} accepted",
                    severity,
                    f"The server accepts {name}, which is deprecated (RFC 8996 for TLS 1.0/1.1, "
                    f"RFC 7568 for SSL 3.0). Accepted suites: {', '.join(names[:40])}.",
                    cwe=327,
                    remediation="Accept TLS 1.2 and TLS 1.3 only.",
                    protocol=name,
                )
            (tls13_suites if name == "TLS 1.3" else suites).update(n for n in names if n)
            for entry in accepted:
                key = entry.get("ephemeral_key") if isinstance(entry, dict) else None
                if not isinstance(key, dict):
                    continue
                size = as_int(key.get("size"))
                if size is None:
                    continue
                if key.get("type_name") == "DH":
                    smallest_dh = size if smallest_dh is None else min(smallest_dh, size)
                elif key.get("type_name") == "ECDH":
                    size += 3  # OpenSSL reports 253 bits for X25519, as sslyze's checker notes
                    smallest_ecdh = size if smallest_ecdh is None else min(smallest_ecdh, size)
        outside = sorted(suites - PROFILE_CIPHERS)
        weak = [s for s in outside if any(marker in s for marker in WEAK_CIPHER_MARKERS)]
        others = [s for s in outside if s not in weak]
        if weak:
            yield self.finding(
                "weak_cipher_suites",
                "Broken cipher suites accepted",
                Severity.HIGH,
                "The server accepts cipher suites without encryption, authentication or with "
                f"broken algorithms: {', '.join(weak)}.",
                cwe=327,
                remediation="Accept only the cipher suites of Mozilla's intermediate profile.",
                cipher_suites=weak,
            )
        if others:
            yield self.finding(
                "cipher_suites_outside_profile",
                "Cipher suites outside the Mozilla intermediate profile",
                Severity.LOW,
                "The server accepts cipher suites without forward secrecy or AEAD: "
                f"{', '.join(others)}.",
                cwe=327,
                remediation="Accept only the cipher suites of Mozilla's intermediate profile.",
                cipher_suites=others,
            )
        extra13 = sorted(tls13_suites - PROFILE_TLS13_CIPHERS)
        if extra13:
            yield self.finding(
                "tls13_cipher_suites",
                "TLS 1.3 cipher suites outside the profile",
                Severity.LOW,
                f"TLS 1.3 suites outside the profile: {', '.join(extra13)}.",
                cipher_suites=extra13,
            )
        if smallest_dh is not None and smallest_dh < DH_MIN_BITS:
            yield self.finding(
                "dh_param_size",
                f"Diffie-Hellman group of {smallest_dh} bits",
                Severity.MEDIUM,
                f"The smallest DH group offered has {smallest_dh} bits; at least {DH_MIN_BITS} "
                "are needed (Logjam).",
                cwe=326,
            )
        if smallest_ecdh is not None and smallest_ecdh < ECDH_MIN_BITS:
            yield self.finding(
                "ecdh_param_size",
                f"ECDH curve of {smallest_ecdh} bits",
                Severity.LOW,
                f"The smallest ECDH curve offered has {smallest_ecdh} bits.",
                cwe=326,
            )

    def _curves(self) -> Iterator[FindingData]:
        result = self.result("elliptic_curves")
        if result is None:
            return
        curves = {
            as_text(c.get("name"), 50) for c in as_list(result.get("supported_curves")) if c
        } - {""}
        extra = sorted(curves - PROFILE_CURVES)
        if extra:
            yield self.finding(
                "tls_curves",
                "Key-exchange curves outside the profile",
                Severity.INFO,
                f"The server accepts {', '.join(extra)}; the profile uses X25519, P-256, P-384.",
                curves=extra,
            )

    # --- known attacks ---------------------------------------------------------------------
    def _vulnerabilities(self) -> Iterator[FindingData]:
        if (r := self.result("heartbleed")) and r.get("is_vulnerable_to_heartbleed") is True:
            yield self.finding(
                "heartbleed",
                "Heartbleed (CVE-2014-0160)",
                Severity.CRITICAL,
                "The server leaks memory through the TLS heartbeat extension.",
                cwe=125,
                remediation="Upgrade OpenSSL and replace the private key and certificate.",
            )
        if (r := self.result("openssl_ccs_injection")) and r.get("is_vulnerable_to_ccs_injection"):
            yield self.finding(
                "ccs_injection",
                "OpenSSL CCS injection (CVE-2014-0224)",
                Severity.HIGH,
                "The server is vulnerable to the OpenSSL ChangeCipherSpec injection attack.",
                remediation="Upgrade OpenSSL.",
            )
        robot = as_text((self.result("robot") or {}).get("robot_result"), 100)
        if robot in ("VULNERABLE_STRONG_ORACLE", "VULNERABLE_WEAK_ORACLE"):
            yield self.finding(
                "robot",
                "ROBOT attack (Bleichenbacher oracle)",
                Severity.HIGH if robot == "VULNERABLE_STRONG_ORACLE" else Severity.MEDIUM,
                f"SSLyze found an RSA padding oracle ({robot}).",
                cwe=203,
                remediation="Disable RSA key exchange cipher suites or patch the TLS stack.",
            )
        if (r := self.result("tls_compression")) and r.get("supports_compression") is True:
            yield self.finding(
                "compression",
                "TLS compression enabled (CRIME)",
                Severity.MEDIUM,
                "The server accepts TLS-level compression, which enables the CRIME attack.",
                cwe=310,
            )
        if (r := self.result("session_renegotiation")) is not None:
            if r.get("supports_secure_renegotiation") is False:
                yield self.finding(
                    "insecure_renegotiation",
                    "Insecure renegotiation",
                    Severity.MEDIUM,
                    "The server does not support secure renegotiation (RFC 5746).",
                )
            if r.get("is_vulnerable_to_client_renegotiation_dos") is True:
                yield self.finding(
                    "client_renegotiation_dos",
                    "Client-initiated renegotiation allowed",
                    Severity.LOW,
                    "Clients may renegotiate repeatedly, a denial-of-service vector.",
                    cwe=400,
                )
        if (r := self.result("tls_fallback_scsv")) and r.get("supports_fallback_scsv") is False:
            yield self.finding(
                "fallback_scsv",
                "No TLS_FALLBACK_SCSV (downgrade protection)",
                Severity.LOW,
                "The server does not support TLS_FALLBACK_SCSV, so protocol downgrades go "
                "unnoticed.",
            )
        ems = self.result("tls_extended_master_secret")
        if ems and ems.get("supports_ems_extension") is False:
            yield self.finding(
                "extended_master_secret",
                "No Extended Master Secret extension",
                Severity.LOW,
                "The server does not support RFC 7627's Extended Master Secret.",
            )

    def _hsts(self) -> Iterator[FindingData]:
        result = self.result("http_headers")
        if result is None or result.get("http_error_trace"):
            return
        header = result.get("strict_transport_security_header")
        if not isinstance(header, dict):
            yield self.finding(
                "hsts_missing",
                "HSTS header missing",
                Severity.LOW,
                "The HTTPS response has no Strict-Transport-Security header.",
                cwe=319,
                remediation=f"Send Strict-Transport-Security: max-age={HSTS_MIN_AGE}.",
            )
            return
        max_age = as_int(header.get("max_age"))
        if max_age is None or max_age < HSTS_MIN_AGE:
            yield self.finding(
                "hsts_short_max_age",
                "HSTS max-age too short",
                Severity.LOW,
                f"HSTS max-age is {max_age}; the profile asks for at least {HSTS_MIN_AGE}.",
                cwe=319,
            )


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["parse_report"]
