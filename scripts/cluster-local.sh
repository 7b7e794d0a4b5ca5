#!/usr/bin/env bash
# A three-node bot-engine cluster as plain processes on 127.0.0.1, on the local PostgreSQL, with
# the Bot API and Runner emulators in a process of their own: the docker/ topology for a machine
# without Docker. See docs/deploy.md.
#
#   scripts/cluster-local.sh start          build the jar if missing, create the database and its
#                                           schema, start the emulators and nodes 1-3 (only those
#                                           not running), wait until every node is ready
#   scripts/cluster-local.sh status         each process, and each node's readiness
#   scripts/cluster-local.sh stop           SIGTERM each node in turn (coordinated shutdown: its
#                                           users are handed over, it leaves), then the emulators
#   scripts/cluster-local.sh crash N        SIGKILL node N (no hand-over): watch its users' jobs
#                                           resume on the others; 'start' brings it back
#   scripts/cluster-local.sh say USER TEXT  USER writes TEXT to the bot (e.g. /cv, /balance)
#   scripts/cluster-local.sh send USER FILE USER sends FILE (PDF or TXT) to the bot
#   scripts/cluster-local.sh chat USER      what the bot sent USER so far
#   scripts/cluster-local.sh admin USER     the admin API's view of USER (asked on the first
#                                           node that is ready)
#
# Environment (defaults): PGHOST 127.0.0.1, PGPORT 5432, PGUSER postgres, PGPASSWORD unset,
# BOT_LOCAL_DB botengine_local, JAVA_OPTS -Xmx384m, MVN_FLAGS (extra flags for the build),
# BOT_LOCAL_STATE (logs and pid files) ${TMPDIR:-/tmp}/bot-engine-cluster-local-<uid>, outside the
# checkout, BOT_LOCAL_HTTP_BASE 8180.
# Node N listens on HTTP BOT_LOCAL_HTTP_BASE+N (8181-8183) and cluster port 2552N; the emulators on
# 8081 (Bot API), 8082 (users' side) and 8090 (Runner). Node 1 is the first seed: nodes 2 and 3
# can join a running cluster, but cannot form one without it.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
DB=${BOT_LOCAL_DB:-botengine_local}
JAR=target/bot-engine.jar
RUN=${BOT_LOCAL_STATE:-${TMPDIR:-/tmp}/bot-engine-cluster-local-$(id -u)}
HTTP_BASE=${BOT_LOCAL_HTTP_BASE:-8180}
NODES=(1 2 3)
TOKEN=100000:local-cluster
RUNNER_KEY=local-runner-key
ADMIN_TOKEN=local-admin
BOT_API_PORT=8081
CONTROL_PORT=8082
RUNNER_PORT=8090
SEEDS=127.0.0.1:25521,127.0.0.1:25522
JAVA_OPTS=${JAVA_OPTS:--Xmx384m}

http_port() { echo $((HTTP_BASE + $1)); }
cluster_port() { echo $((25520 + $1)); }

pid_of() {
  local file="$RUN/$1.pid"
  if [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then
    cat "$file"
  fi
}

ready() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$(http_port "$1")/health/ready" 2>/dev/null
}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "cluster-local: '$1' is required: $2" >&2; exit 1; }
}

build() {
  if [ ! -f "$JAR" ]; then
    need mvn "install Maven 3.8+ (or build target/bot-engine.jar yourself)"
    echo "cluster-local: building $JAR"
    # shellcheck disable=SC2086
    mvn -q -B ${MVN_FLAGS:-} package -DskipTests
  fi
}

database() {
  need psql "install the PostgreSQL client"
  if ! pg_isready -q 2>/dev/null; then
    echo "cluster-local: PostgreSQL is not reachable on $PGHOST:$PGPORT (user $PGUSER); start it" \
      "with 'pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start'" >&2
    exit 1
  fi
  if [ -z "$(psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
    echo "cluster-local: creating database $DB"
    psql -d postgres -qc "CREATE DATABASE $DB"
  fi
  psql -d "$DB" -q -v ON_ERROR_STOP=1 -f persistence-schema/postgres-create-schema.sql 2>&1 \
    | grep -v "already exists, skipping" || true
}

launch() { # name, then the command; its output goes to $RUN/name.log
  local name=$1
  shift
  nohup "$@" >>"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

start_emulators() {
  if [ -n "$(pid_of emulators)" ]; then
    return
  fi
  echo "cluster-local: starting the emulators (Bot API :$BOT_API_PORT, Runner :$RUNNER_PORT)"
  # shellcheck disable=SC2086
  TELEGRAM_BOT_TOKEN=$TOKEN RUNNER_API_KEY=$RUNNER_KEY EMULATOR_HOST=127.0.0.1 \
    BOT_API_EMULATOR_PORT=$BOT_API_PORT EMULATOR_CONTROL_PORT=$CONTROL_PORT \
    RUNNER_EMULATOR_PORT=$RUNNER_PORT \
    launch emulators java $JAVA_OPTS -cp "$JAR" io.botengine.sandbox.EmulatorsMain
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$RUNNER_PORT/health" 2>/dev/null && return
    [ -n "$(pid_of emulators)" ] || break
    sleep 0.5
  done
  echo "cluster-local: the emulators did not start; see $RUN/emulators.log" >&2
  exit 1
}

start_node() {
  local n=$1
  if [ -n "$(pid_of "node$n")" ]; then
    return
  fi
  echo "cluster-local: starting node $n (HTTP :$(http_port "$n"), cluster :$(cluster_port "$n"))"
  # shellcheck disable=SC2086
  TELEGRAM_BOT_TOKEN=$TOKEN TELEGRAM_API_URL=http://127.0.0.1:$BOT_API_PORT \
    RUNNER_URL=http://127.0.0.1:$RUNNER_PORT RUNNER_API_KEY=$RUNNER_KEY \
    ADMIN_API_TOKEN=$ADMIN_TOKEN HTTP_HOST=127.0.0.1 HTTP_PORT=$(http_port "$n") \
    CLUSTER_HOST=127.0.0.1 CLUSTER_PORT=$(cluster_port "$n") CLUSTER_SEED_NODES=$SEEDS \
    JDBC_URL=jdbc:postgresql://$PGHOST:$PGPORT/$DB JDBC_USER=$PGUSER \
    JDBC_PASSWORD=${PGPASSWORD:-} JDBC_MAX_CONNECTIONS=10 BOT_CREATE_SCHEMA=false \
    launch "node$n" java $JAVA_OPTS -jar "$JAR"
}

await_ready() {
  local n
  for n in "${NODES[@]}"; do
    for _ in $(seq 1 120); do
      ready "$n" && break
      if [ -z "$(pid_of "node$n")" ]; then
        echo "cluster-local: node $n stopped; the end of $RUN/node$n.log:" >&2
        tail -n 20 "$RUN/node$n.log" >&2
        exit 1
      fi
      sleep 0.5
    done
    ready "$n" || { echo "cluster-local: node $n is not ready after 60 s; see $RUN/node$n.log" >&2; exit 1; }
  done
}

start() {
  need java "install a JDK 17"
  need curl "install curl"
  mkdir -p "$RUN"
  build
  database
  start_emulators
  for n in "${NODES[@]}"; do
    start_node "$n"
  done
  await_ready
  echo "cluster-local: 3 nodes ready on HTTP ports $(http_port 1), $(http_port 2), $(http_port 3)."
  echo "  Talk to the bot as user 42:  $0 say 42 /cv   then   $0 send 42 my-cv.pdf"
  echo "  Read the chat:               $0 chat 42"
  echo "  Admin API (any node):        curl -H 'Authorization: Bearer $ADMIN_TOKEN' http://127.0.0.1:$(http_port 2)/admin/users/42"
}

stop_process() { # name, seconds to wait
  local pid
  pid=$(pid_of "$1")
  if [ -z "$pid" ]; then
    rm -f "$RUN/$1.pid"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 $(($2 * 2))); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$RUN/$1.pid"; echo "cluster-local: $1 stopped"; return; }
    sleep 0.5
  done
  echo "cluster-local: $1 (pid $pid) did not stop within $2 s; see $RUN/$1.log" >&2
  return 1
}

stop() {
  local failed=0 i
  for ((i = ${#NODES[@]} - 1; i >= 0; i--)); do
    stop_process "node${NODES[$i]}" 60 || failed=1
  done
  stop_process emulators 20 || failed=1
  return $failed
}

status() {
  local n pid
  echo "state (logs, pid files): $RUN"
  for name in emulators node1 node2 node3; do
    pid=$(pid_of "$name")
    if [ -z "$pid" ]; then
      printf '%-10s stopped\n' "$name"
    elif [ "$name" = emulators ]; then
      printf '%-10s pid %-7s Bot API :%s, users :%s, Runner :%s\n' "$name" "$pid" \
        "$BOT_API_PORT" "$CONTROL_PORT" "$RUNNER_PORT"
    else
      n=${name#node}
      if ready "$n"; then state=ready; else state="not ready"; fi
      printf '%-10s pid %-7s HTTP :%s cluster :%s %s\n' "$name" "$pid" "$(http_port "$n")" \
        "$(cluster_port "$n")" "$state"
    fi
  done
}

crash() {
  local pid
  pid=$(pid_of "node$1")
  [ -n "$pid" ] || { echo "cluster-local: node $1 is not running" >&2; exit 1; }
  kill -KILL "$pid"
  rm -f "$RUN/node$1.pid"
  echo "cluster-local: node $1 killed (pid $pid); the others down it and take over its users"
}

users() { # method, path, curl arguments...
  local method=$1 path=$2
  shift 2
  curl -fsS -X "$method" "$@" "http://127.0.0.1:$CONTROL_PORT/users/$path"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  crash) [ $# -eq 2 ] || { echo "usage: $0 crash N" >&2; exit 2; }; crash "$2" ;;
  say) [ $# -ge 3 ] || { echo "usage: $0 say USER TEXT" >&2; exit 2; }
    user=$2; shift 2; users POST "$user/text" --data-binary "$*" ;;
  send) [ $# -eq 3 ] || { echo "usage: $0 send USER FILE" >&2; exit 2; }
    users POST "$2/document?name=$(basename "$3")" --data-binary "@$3" ;;
  chat) [ $# -eq 2 ] || { echo "usage: $0 chat USER" >&2; exit 2; }; users GET "$2/chat" ;;
  admin) [ $# -eq 2 ] || { echo "usage: $0 admin USER" >&2; exit 2; }
    for n in "${NODES[@]}"; do
      if ready "$n"; then
        curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" \
          "http://127.0.0.1:$(http_port "$n")/admin/users/$2"
        echo
        exit 0
      fi
    done
    echo "cluster-local: no node is ready; see '$0 status'" >&2
    exit 1 ;;
  *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
