# Plot of the failure-detector accuracy benchmark.
#   gnuplot -e "dat='B/bench/accuracy.dat'; out='B/bench/accuracy.png'" accuracy.gp
# dat: blocks written by summarize.py (index 0 times, 1 suspicions and
# failures under stress, 2 steady-state cost); columns: case serf xdp off.
set terminal pngcairo size 1500,540 font ",10"
set output out
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xtics nomirror font ",9"
set key outside bottom center horizontal
set multiplot layout 1,3 title "Failure-detector accuracy: Serf vs xgossip (16 nodes unless stated, LAN timings, one run)"

set title "SIGKILL: until every node declared the node failed\n(N=16, N=32); 8/8 split: until all saw all alive again"
set ylabel "seconds"
plot dat index 0 using 2:xtic(1) title "Serf", \
     ''  index 0 using 3 title "xgossip XDP native", \
     ''  index 0 using 4 title "xgossip XDP off"

set title "2 of 16 stalled (SIGSTOP bursts) or CPU-throttled:\nsuspicions + failures declared (lower is better)"
set ylabel "count"
plot dat index 1 using 2:xtic(1) title "Serf", \
     ''  index 1 using 3 title "xgossip XDP native", \
     ''  index 1 using 4 title "xgossip XDP off"

set title "Steady state, per node"
set ylabel "bytes/s / 100  resp.  MiB (VmRSS, RssAnon)"
plot dat index 2 using 2:xtic(1) title "Serf", \
     ''  index 2 using 3 title "xgossip XDP native", \
     ''  index 2 using 4 title "xgossip XDP off"
unset multiplot
