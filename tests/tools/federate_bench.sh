#!/bin/bash
# /federate cost, Sightline against Prometheus 2.42 scraping the same benchmark targets
# (N targets of M series, every 5 s; default 20 x 1000). After WARM seconds, five
# `match[]={__name__=~".+"}` requests to each, plain and gzip: series, bytes, wall time and
# the server process's CPU time per request (which includes its scraping meanwhile).
# Usage: tests/tools/federate_bench.sh target/release/sightline
set -u
BIN=$1; N=${N:-20}; M=${M:-1000}
W=$(mktemp -d)
TP=${TP:-39311}; SP=${SP:-39312}; PP=${PP:-39313}
python3 "$(dirname "$0")/targets.py" --targets $N --series-per-target $M --ports 1 --port $TP --max-seconds 300 >/dev/null 2>&1 & TPID=$!
targets=$(for i in $(seq 0 $((N-1))); do echo "      - targets: ['127.0.0.1:$TP']"; echo "        labels: {__metrics_path__: /metrics/$i, t: 't$i'}"; done)
cat > $W/p.yml <<EOC
global:
  scrape_interval: 5s
  external_labels: {cluster: east}
scrape_configs:
  - job_name: bench
    static_configs:
$targets
EOC
$BIN serve --config.file=$W/p.yml --storage.tsdb.path=$W/s --plugins.dir=$W/plugins --web.listen-address=127.0.0.1:$SP >$W/s.log 2>&1 & SPID=$!
/usr/bin/prometheus --config.file=$W/p.yml --storage.tsdb.path=$W/p --web.listen-address=127.0.0.1:$PP --log.level=warn >$W/p.log 2>&1 & PPID2=$!
trap 'kill $TPID $SPID $PPID2 2>/dev/null; wait 2>/dev/null; rm -rf $W' EXIT
sleep ${WARM:-40}
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for who in sightline:$SP:$SPID prometheus:$PP:$PPID2; do
  IFS=: read name port pid <<< "$who"
  for enc in identity gzip; do
    c0=$(cpu $pid); t0=$(date +%s.%N)
    for i in 1 2 3 4 5; do
      curl -s -H "Accept-Encoding: $enc" -G --data-urlencode 'match[]={__name__=~".+"}' http://127.0.0.1:$port/federate -o $W/out.$name
    done
    t1=$(date +%s.%N); c1=$(cpu $pid)
    lines=$(if [ $enc = gzip ]; then zcat $W/out.$name; else cat $W/out.$name; fi | grep -vc '^#')
    echo "$name $enc: series=$lines bytes=$(stat -c %s $W/out.$name) wall_ms/req=$(echo "($t1-$t0)*200" | bc) cpu_ms/req=$(( (c1-c0)*10/5 ))"
  done
done
