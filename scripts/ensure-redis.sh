#!/usr/bin/env bash
# Makes sure a Redis answers at $REDIS_URL (default redis://127.0.0.1:6379): uses a running one,
# else starts a private redis-server if the binary exists, else says exactly how to get one.
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#redis://}"; hostport="${hostport%%/*}"; hostport="${hostport##*@}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379

ping() { node -e '
  const s = require("net").connect(+process.argv[2], process.argv[1]);
  s.setTimeout(1000, () => process.exit(1));
  s.on("error", () => process.exit(1));
  s.on("connect", () => s.write("PING\r\n"));
  s.on("data", (d) => process.exit(String(d).startsWith("+PONG") ? 0 : 1));
' "$host" "$port"; }

if ping; then echo "redis: reachable at $host:$port"; exit 0; fi
if command -v redis-server >/dev/null 2>&1; then
  mkdir -p .devnet
  redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
    --maxmemory-policy noeviction --dir "$PWD/.devnet" --logfile "$PWD/.devnet/redis.log"
  for _ in $(seq 1 50); do ping && { echo "redis: started redis-server on $host:$port"; exit 0; }; sleep 0.1; done
fi
cat >&2 <<MSG
redis: nothing answers at $host:$port and no redis-server binary was found.
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  macOS:          brew install redis && brew services start redis
  Docker:         docker compose up -d redis
Or point REDIS_URL at a Redis you have.
MSG
exit 1
