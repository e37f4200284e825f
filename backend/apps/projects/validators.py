"""Validation of scan target values, shared by the API, the admin and the CLI.

A target value ends up as an argument of git, a scanner or a network probe, so each type is
checked for argument injection (leading `-`, `ext::`/`fd::` transports), path escape (`..`,
symlinks out of SECULITE_SCAN_ROOTS) and server-side request forgery (loopback, link-local,
private and reserved addresses, whatever notation or DNS name leads there)."""

import ipaddress
import re
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import AssetType

# Resolution is injectable so that tests can model DNS without a network.
Resolver = Callable[[str], list[str]]


def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6). Numeric shorthands such as 0x7f000001
    or 127.1 are resolved by the system exactly as a tool would."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0].split("%", 1)[0] for info in infos})


HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)
SCP_RE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s]+)$")
IMAGE_RE = re.compile(
    r"^(?:(?P<registry>[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?)/)?"
    r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
REF_RE = re.compile(
    r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]{1,200}(?<!\.lock)(?<![/.])$"
)
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
SPACE_RE = re.compile(r"\s")


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _allowed_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address, host: str) -> bool:
    for entry in settings.SECULITE_ALLOWED_PRIVATE_TARGETS:
        entry = entry.strip()
        if not entry:
            continue
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def check_host(host: str, *, field: str = "identifier", resolver: Resolver | None = None) -> None:
    """Refuse a host that is, or resolves to, a non-public address unless explicitly allowed."""
    host = host.strip().strip("[]")
    if not host:
        raise _error(field, "A host name or address is required.")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = []
    if not addresses:
        if not HOSTNAME_RE.match(host) and not re.fullmatch(r"[0-9a-fA-Fx.]+", host):
            raise _error(field, f"'{host}' is not a valid host name.")
        try:
            addresses = [ipaddress.ip_address(a) for a in (resolver or resolve_host)(host)]
        except (OSError, UnicodeError, ValueError):
            raise _error(field, f"The host '{host}' does not resolve.") from None
        if not addresses:
            raise _error(field, f"The host '{host}' does not resolve.")
    for address in addresses:
        if not _is_public(address) and not _allowed_private(address, host):
            raise _error(
                field,
                f"'{host}' is a loopback, link-local, private or reserved address ({address}); "
                "add it to SECULITE_ALLOWED_PRIVATE_TARGETS to allow scanning it.",
            )


def check_local_path(value: str, *, field: str = "identifier") -> Path:
    """A local directory that resolves (symlinks followed) inside one of SECULITE_SCAN_ROOTS."""
    roots = [Path(r).resolve() for r in settings.SECULITE_SCAN_ROOTS]
    if not roots:
        raise _error(field, "Local paths are disabled: SECULITE_SCAN_ROOTS is empty.")
    raw = Path(value)
    if not raw.is_absolute():
        raise _error(field, "A local path must be absolute.")
    if ".." in raw.parts:
        raise _error(field, "A local path must not contain '..'.")
    resolved = raw.resolve()
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        raise _error(field, "The path is outside the allowed scan roots (SECULITE_SCAN_ROOTS).")
    if not resolved.is_dir():
        raise _error(field, "The path does not exist or is not a directory.")
    return resolved


def _split(url: str) -> SplitResult:
    """urlsplit, with its ValueError (an IPv6 host never closed: "http://[::1") as a field
    error."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise _error("identifier", f"This is not a valid URL: {exc}.") from None


def _check_git_url(value: str, resolver: Resolver | None) -> None:
    lowered = value.lower()
    if "::" in value.split("/", 1)[0] or lowered.startswith(("ext:", "fd:")):
        raise _error("identifier", "Git remote helpers (ext::, fd::, ...) are not allowed.")
    if lowered.startswith("file://"):
        if not settings.SECULITE_ALLOW_FILE_GIT_URLS:
            raise _error("identifier", "file:// Git URLs are disabled.")
        check_local_path(value[len("file://") :])
        return
    if lowered.startswith(("https://", "ssh://")):
        parts = _split(value)
        if not parts.hostname or not parts.path.strip("/"):
            raise _error("identifier", "A Git URL needs a host and a repository path.")
        if parts.password:
            raise _error("identifier", "Do not put credentials in the URL.")
        check_host(parts.hostname, resolver=resolver)
        return
    scp = SCP_RE.match(value)
    if scp:
        if scp.group("path").startswith("-"):
            raise _error("identifier", "The repository path must not start with '-'.")
        check_host(scp.group("host"), resolver=resolver)
        return
    raise _error(
        "identifier",
        "Use an https:// or ssh:// Git URL, user@host:path, or an absolute local path.",
    )


def validate_target(
    *, asset_type: str, identifier: str, metadata: dict | None, resolver: Resolver | None = None
) -> tuple[str, dict]:
    """Check a target value for its type; returns the normalised identifier and metadata.
    Raises ValidationError with per-field messages."""
    metadata = dict(metadata or {})
    identifier = (identifier or "").strip()
    if not identifier:
        raise _error("identifier", "This field may not be blank.")
    if identifier.startswith("-"):
        raise _error("identifier", "A target must not start with '-'.")
    if CONTROL_RE.search(identifier):
        raise _error("identifier", "Control characters are not allowed.")
    local_path = asset_type == AssetType.GIT_REPOSITORY and identifier.startswith("/")
    if SPACE_RE.search(identifier) and not local_path and asset_type != AssetType.FILE_UPLOAD:
        raise _error("identifier", "Whitespace is not allowed.")
    if len(identifier) > 2048:
        raise _error("identifier", "At most 2048 characters.")

    if asset_type == AssetType.GIT_REPOSITORY:
        if identifier.startswith("/"):
            identifier = str(check_local_path(identifier))
            metadata["local"] = True
        else:
            _check_git_url(identifier, resolver)
            metadata.pop("local", None)
        branch = metadata.get("branch")
        if branch not in (None, ""):
            if not isinstance(branch, str) or not REF_RE.match(branch):
                raise _error("metadata", "branch: not a valid Git branch name.")
    elif asset_type == AssetType.URL:
        parts = _split(identifier)
        if parts.scheme not in ("http", "https"):
            raise _error("identifier", "Only http:// and https:// URLs can be scanned.")
        if not parts.hostname:
            raise _error("identifier", "The URL has no host.")
        if parts.username or parts.password:
            raise _error("identifier", "Do not put credentials in the URL.")
        try:
            _ = parts.port
        except ValueError:
            raise _error("identifier", "The URL's port is not valid.") from None
        check_host(parts.hostname, resolver=resolver)
    elif asset_type == AssetType.IP_ADDRESS:
        try:
            address = ipaddress.ip_address(identifier)
        except ValueError:
            raise _error("identifier", f"'{identifier}' is not an IP address.") from None
        identifier = str(address)
        check_host(identifier, resolver=resolver)
    elif asset_type == AssetType.DOMAIN_NAME:
        identifier = identifier.lower().rstrip(".")
        if not HOSTNAME_RE.match(identifier) or "." not in identifier:
            raise _error("identifier", f"'{identifier}' is not a domain name.")
        check_host(identifier, resolver=resolver)
    elif asset_type == AssetType.DOCKER_IMAGE:
        if not IMAGE_RE.match(identifier):
            raise _error("identifier", "Not a container image reference (name[:tag][@digest]).")
    elif asset_type == AssetType.FILE_UPLOAD:
        name = Path(identifier)
        if name.is_absolute() or ".." in name.parts:
            raise _error("identifier", "A file name must be relative, without '..'.")
    else:
        raise _error("asset_type", f"'{asset_type}' is not a target type.")
    return identifier, metadata
