# Test targets of dockerfile.yml for `semgrep --test` (apps/tools/tests/test_semgrep_rules.py).
# ruleid: seculite.dockerfile.latest-tag
FROM python:latest
# ruleid: seculite.dockerfile.add-remote-url
ADD https://example.com/tool.tar.gz /opt/tool.tar.gz
# ok: seculite.dockerfile.add-remote-url
ADD tool.tar.gz /opt/
# ruleid: seculite.dockerfile.curl-pipe-shell
RUN curl -fsSL https://example.com/install.sh | sh
# ok: seculite.dockerfile.curl-pipe-shell
RUN curl -fsSLo /tmp/install.sh https://example.com/install.sh
# ruleid: seculite.dockerfile.last-user-root
USER root
