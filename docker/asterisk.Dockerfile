# Asterisk 22 from Debian unstable (Debian 12 has no Asterisk package), with the shipped dialplan.
FROM debian:sid-slim
RUN apt-get update && apt-get install -y --no-install-recommends asterisk asterisk-core-sounds-en \
    && rm -rf /var/lib/apt/lists/*
COPY dialplan/asterisk/extensions_callpolicy.conf /etc/asterisk/extensions_callpolicy.conf
COPY docker/asterisk/ /etc/asterisk/
CMD ["asterisk", "-f"]
