package main

import (
	"fmt"
	"time"
)

func ms(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 }

// ratio is a/b as "1.23x", or "-" when b is zero (not timed).
func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// msOr is t in milliseconds, or "-" when zero (not timed).
func msOr(t time.Duration) string {
	if t == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ms(t))
}

// pct is how much larger a is than b, "+1.23 %".
func pct(a, b float64) string { return fmt.Sprintf("%+.2f %%", 100*(a/b-1)) }

func printHeader() {
	fmt.Println("| tensor | rows x cols | kept | k | stored | profile | Huffman B | cabac B | cabac vs Huffman | auto B | zstd-max B | order-0 B | context bound B | cabac / bound | Huffman dec ms | cabac dec ms | dec ratio | Huffman enc ms | cabac enc ms | enc ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
}

func printRow(r row, o options) {
	shape := fmt.Sprintf("%d x %d", r.rows, r.cols)
	prof := fmt.Sprintf("%#02x", r.prof)
	stored := "huffman"
	if r.arith {
		stored = "arith"
	}
	k, zst := fmt.Sprint(r.m), fmt.Sprint(r.zst)
	if !o.zstd {
		zst = "-"
	}
	if r.name == "total" {
		shape, prof, stored, k = fmt.Sprint(r.rows), "", "", ""
	}
	fmt.Printf("| %s | %s | %d | %s | %s | %s | %d | %d | %s | %d | %s | %.0f | %.0f | %.4f | %s | %s | %s | %s | %s | %s |\n",
		r.name, shape, r.kept, k, stored, prof, r.huff, r.cab, pct(float64(r.cab), float64(r.huff)), r.auto, zst,
		r.order0, r.bound, float64(r.cab)/r.bound, msOr(r.hDec), msOr(r.cDec), ratio(r.cDec, r.hDec),
		msOr(r.hEnc), msOr(r.cEnc), ratio(r.cEnc, r.hEnc))
}

// printTotals prints the file's totals, one line per column.
func printTotals(s fileSum, o options) {
	t := s.tot
	fmt.Printf("Totals of %s, %d pruned tensors' %d positions, %d kept:\n", s.path, t.tensors, t.rows, t.kept)
	line := func(what string, b float64, note string) {
		fmt.Printf("  %-34s %12.0f B  %s\n", what, b, note)
	}
	h := float64(t.huff)
	line("Huffman + relative indices", h, "")
	line("cabac", float64(t.cab), pct(float64(t.cab), h)+" vs Huffman")
	line("auto (the smaller per tensor)", float64(t.auto), pct(float64(t.auto), h)+" vs Huffman")
	fmt.Printf("  %-34s %12d B as stored; %d B with Huffman everywhere, %d B with auto\n", "whole file", s.size, s.withCoded(t.huff), s.withCoded(t.auto))
	if o.zstd {
		line("zstd at its highest level", float64(t.zst), pct(float64(t.zst), h)+" vs Huffman")
	} else {
		fmt.Printf("  %-34s %12s\n", "zstd at its highest level", "(not run: -zstd=false)")
	}
	line("order-0 bound", t.order0, pct(t.order0, h)+" vs Huffman")
	line("context bound", t.bound, fmt.Sprintf("cabac / bound %.4f", float64(t.cab)/t.bound))
	if o.reps == 0 {
		fmt.Println("  (not timed: -reps 0)")
		fmt.Println()
		return
	}
	fmt.Printf("  %-34s Huffman %9.2f ms  cabac %9.2f ms  cabac/Huffman %s\n", "decode (CPU, best of "+fmt.Sprint(o.reps)+")", ms(t.hDec), ms(t.cDec), ratio(t.cDec, t.hDec))
	fmt.Printf("  %-34s Huffman %9.2f ms  cabac %9.2f ms  cabac/Huffman %s\n", "encode (CPU, best of "+fmt.Sprint(o.reps)+")", ms(t.hEnc), ms(t.cEnc), ratio(t.cEnc, t.hEnc))
	fmt.Printf("  %-34s %.1f ms as stored; %.1f ms with the Huffman path for every tensor, %.1f ms with cabac (%s)\n",
		"whole file, dcz.Read", ms(s.read), ms(s.asHuf), ms(s.asCab), ratio(s.asCab, s.asHuf))
	fmt.Println()
}

// printMarkdown prints one row per file: the totals of printTotals.
func printMarkdown(sums []fileSum, o options) {
	fmt.Println("| file | bytes | with auto | positions | kept | Huffman B | cabac B | cabac vs Huffman | auto B | zstd-max B | order-0 B | context bound B | cabac / bound | Huffman dec ms | cabac dec ms | dec ratio | Huffman enc ms | cabac enc ms | enc ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range sums {
		t := s.tot
		zst := fmt.Sprint(t.zst)
		if !o.zstd {
			zst = "-"
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %d | %s | %d | %s | %.0f | %.0f | %.4f | %s | %s | %s | %s | %s | %s |\n",
			s.path, s.size, s.withCoded(t.auto), t.rows, t.kept, t.huff, t.cab, pct(float64(t.cab), float64(t.huff)), t.auto, zst,
			t.order0, t.bound, float64(t.cab)/t.bound, msOr(t.hDec), msOr(t.cDec), ratio(t.cDec, t.hDec),
			msOr(t.hEnc), msOr(t.cEnc), ratio(t.cEnc, t.hEnc))
	}
}

// withCoded is the file's size with coded bytes in place of the
// entropy-coded bytes it stores.
func (s fileSum) withCoded(coded int) int64 { return s.size - int64(s.coded) + int64(coded) }
