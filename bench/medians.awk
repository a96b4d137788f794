# Reads "shape swift_tokens_per_s torch_tokens_per_s" lines and prints, per shape in order of
# appearance, the medians of both sides and their ratio. Used by bench/train.sh, bench/sample.sh and
# bench/sweep.sh; -v head="..." replaces the table's heading (the columns' names), -v digits=N prints N decimals.
{ s[$1] = s[$1] " " $2; t[$1] = t[$1] " " $3; order[NR] = $1 }
function median(list,   a, n, i, j, x) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  print "\n" (head == "" ? "shape       swift tok/s   torch tok/s   swift/torch (medians)" : head)
  for (i = 1; i <= NR; i++) {
    k = order[i]; if (k in done) continue; done[k] = 1
    printf "%-10s %12." digits "f %13." digits "f %8.2fx\n", k, median(s[k]), median(t[k]), median(s[k]) / median(t[k])
  }
}
