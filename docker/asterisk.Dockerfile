# Asterisk 22 from Debian unstable (Debian 12 has no Asterisk package), configured from the
# shipped files in dialplan/asterisk/: the same files the test sandbox runs, not a copy.
# Build from the repository root (compose.yaml does):
#   docker build -f docker/asterisk.Dockerfile -t callpolicy-asterisk .
# Not built by our CI (no Docker engine there); test/unit/docker-asterisk.test.ts checks that
# every file named here exists and runs the entrypoint script.
FROM debian:sid-slim
RUN apt-get update && apt-get install -y --no-install-recommends asterisk asterisk-core-sounds-en \
    && rm -rf /var/lib/apt/lists/*
# As they are: the dialplan, the extensions and PJSIP samples (transport and the adapter's
# templates; no trunk, no phones, no password), modules.conf (autoload).
COPY dialplan/asterisk/extensions_callpolicy.conf /etc/asterisk/extensions_callpolicy.conf
COPY dialplan/asterisk/extensions.conf.sample /etc/asterisk/extensions.conf
COPY dialplan/asterisk/pjsip.conf.sample /etc/asterisk/pjsip.conf
COPY dialplan/asterisk/modules.conf.sample /etc/asterisk/modules.conf
# ari.conf and http.conf are written from these at every start (ARI_PASSWORD, required): the
# image holds no password, and the package's own ari.conf and http.conf are not used.
COPY dialplan/asterisk/ari.conf.sample dialplan/asterisk/http.conf.sample /usr/share/callpolicy/asterisk/
COPY docker/asterisk/entrypoint.sh /usr/local/bin/callpolicy-asterisk-entrypoint
RUN chmod 0755 /usr/local/bin/callpolicy-asterisk-entrypoint \
    && rm -f /etc/asterisk/ari.conf /etc/asterisk/http.conf
EXPOSE 5060/udp
ENTRYPOINT ["/usr/local/bin/callpolicy-asterisk-entrypoint"]
CMD ["asterisk", "-f"]
