# gnuplot script: convergence benchmark plot from B/bench/convergence.csv.
#   gnuplot -e "csv='build/bench/convergence.csv'; out='build/bench/convergence.png'" convergence.gp
set terminal pngcairo size 800,480 noenhanced
set output out
set datafile separator ","
set title "xgossip membership convergence (LAN defaults, --xdp off); every repetition"
set xlabel "cluster size (nodes)"
set ylabel "seconds"
set logscale x 2
set xrange [4:64]
set yrange [0:*]
set key below
set grid ytics
# Column 1 nodes, 4 join, 5 first detection, 6 all detected; the header row
# is skipped with 'every ::1'.
plot csv every ::1 using ($1*0.96):4 with points pt 7 ps 1.2 title "join: all see N alive", \
     csv every ::1 using 1:5 with points pt 5 ps 1.2 title "SIGKILL: first member fail", \
     csv every ::1 using ($1*1.04):6 with points pt 9 ps 1.4 title "SIGKILL: every member fail"
