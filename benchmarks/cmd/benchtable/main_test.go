package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/auditkit/audit/benchmarks
cpu: AMD EPYC
BenchmarkEnabled/audit-2 	 6601712	        22.41 ns/op	       0 B/op	       0 allocs/op
BenchmarkEnabled/zap-2                   	  291836	       600 ns/op	     768 B/op	       1 allocs/op
BenchmarkLog/audit-BCM-2                 	  448627	       200 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/audit-JSON-2                	  480447	       300 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/zerolog-2                   	  511420	       320 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/audit-BCM-2                 	  448627	       220 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/audit-JSON-2                	  480447	       280 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/zerolog-2                   	  511420	       340 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/audit-BCM-2                 	  448627	       210 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/audit-JSON-2                	  480447	       290 ns/op	       0 B/op	       0 allocs/op
BenchmarkLog/zerolog-2                   	  511420	       336 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/auditkit/audit/benchmarks	2.707s
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	write(&out, res, []string{"audit-BCM", "audit"})
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{
		"cpu: AMD EPYC",
		"### Enabled (median of 1 run, GOMAXPROCS 2)",
		"| audit | 22.4 | 0% | 0 | 0 | 1.00x |",
		"| zap | 600 | 0% | 768 | 1 | 26.77x |",
		"### Log (median of 3 runs, GOMAXPROCS 2)",
		"| library | ns/op | ± | B/op | allocs/op | vs audit-BCM |",
		"| audit-BCM | 210 | 5% | 0 | 0 | 1.00x |",
		"| audit-JSON | 290 | 3% | 0 | 0 | 1.38x |",
		"| zerolog | 336 | 3% | 0 | 0 | 1.60x |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestTablePerGOMAXPROCS: go test -cpu 2,8 gives a table for each.
func TestTablePerGOMAXPROCS(t *testing.T) {
	res, err := parse(strings.NewReader(`BenchmarkLogParallel/audit-BCM-2 	 1000	       600 ns/op
BenchmarkLogParallel/zerolog-2 	 1000	       300 ns/op
BenchmarkLogParallel/audit-BCM-8 	 1000	       900 ns/op
BenchmarkLogParallel/zerolog-8 	 1000	       450 ns/op
`))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	write(&out, res, []string{"audit-BCM"})
	got := out.String()
	for _, want := range []string{
		"### LogParallel (median of 1 run, GOMAXPROCS 2)",
		"| audit-BCM | 600 | 0% |",
		"### LogParallel (median of 1 run, GOMAXPROCS 8)",
		"| zerolog | 450 | 0% |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, -1}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseNothing(t *testing.T) {
	res, err := parse(strings.NewReader("PASS\nok x 0.1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.groups) != 0 {
		t.Errorf("groups = %v", res.groups)
	}
}
