// Command benchtable reads the output of `go test -bench -benchmem` on
// standard input and prints one markdown table per benchmark group (the
// part of the name before the first '/'): each library's median ns/op over
// the runs (-count), the spread of ns/op, B/op, allocs/op, and its ns/op as
// a multiple of the baseline's.
//
// The baseline of a group is the first of the -base names it holds (by
// default audit-BCM, then audit): "zerolog 1.60x" means zerolog took 1.6
// times as long per record as audit with the BCM format.
//
// Usage:
//
//	go test -run '^$' -bench . -benchmem -count 5 | go run ./cmd/benchtable
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	base := flag.String("base", "audit-BCM,audit", "comma-separated baseline names, first present in a group wins")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go test -bench . -benchmem | benchtable [-base names]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(res.groups) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results with ns/op on standard input")
		os.Exit(1)
	}
	write(os.Stdout, res, strings.Split(*base, ","))
}

// results holds the parsed benchmark output.
type results struct {
	header []string // goos, goarch, pkg and cpu lines, as read
	groups []*group // in order of first appearance
}

type group struct {
	name string
	libs []*lib // in order of first appearance
}

type lib struct {
	name   string
	procs  string // GOMAXPROCS suffix of the name, "" if none
	ns     []float64
	bytes  []float64
	allocs []float64
}

// benchLine matches a result line: name, iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+(.*)$`)

// procsSuffix is the -GOMAXPROCS suffix that go test adds to names.
var procsSuffix = regexp.MustCompile(`-(\d+)$`)

func parse(r io.Reader) (*results, error) {
	res := &results{}
	groups := map[string]*group{}
	libs := map[string]*lib{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, h := range []string{"goos:", "goarch:", "pkg:", "cpu:"} {
			if strings.HasPrefix(line, h) && !slices.Contains(res.header, line) {
				res.header = append(res.header, line)
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := strings.TrimPrefix(m[1], "Benchmark")
		procs := ""
		if p := procsSuffix.FindStringSubmatch(name); p != nil {
			procs = p[1]
			name = strings.TrimSuffix(name, p[0])
		}
		gname, lname, ok := strings.Cut(name, "/")
		if !ok {
			lname = gname
		}
		var ns, bytes, allocs float64 = -1, -1, -1
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %v", m[1], fields[i], err)
			}
			switch fields[i+1] {
			case "ns/op":
				ns = v
			case "B/op":
				bytes = v
			case "allocs/op":
				allocs = v
			}
		}
		if ns < 0 {
			continue
		}
		// A group per benchmark and GOMAXPROCS: go test -cpu 2,8 runs
		// each benchmark at both.
		gkey := gname + "-" + procs
		g := groups[gkey]
		if g == nil {
			g = &group{name: gname}
			groups[gkey] = g
			res.groups = append(res.groups, g)
		}
		key := gkey + "/" + lname
		l := libs[key]
		if l == nil {
			l = &lib{name: lname, procs: procs}
			libs[key] = l
			g.libs = append(g.libs, l)
		}
		l.ns = append(l.ns, ns)
		if bytes >= 0 {
			l.bytes = append(l.bytes, bytes)
		}
		if allocs >= 0 {
			l.allocs = append(l.allocs, allocs)
		}
	}
	return res, sc.Err()
}

// median returns the median of v, or -1 if v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread returns half the range of v as a percentage of its median.
func spread(v []float64) float64 {
	m := median(v)
	if m <= 0 {
		return 0
	}
	return (slices.Max(v) - slices.Min(v)) / 2 / m * 100
}

func write(w io.Writer, res *results, base []string) {
	for _, h := range res.header {
		fmt.Fprintf(w, "%s  \n", h)
	}
	if len(res.header) > 0 {
		fmt.Fprintln(w)
	}
	for i, g := range res.groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var baseLib *lib
		for _, b := range base {
			if j := slices.IndexFunc(g.libs, func(l *lib) bool { return l.name == strings.TrimSpace(b) }); j >= 0 {
				baseLib = g.libs[j]
				break
			}
		}
		runs := 0
		for _, l := range g.libs {
			runs = max(runs, len(l.ns))
		}
		procs := ""
		if len(g.libs) > 0 && g.libs[0].procs != "" {
			procs = ", GOMAXPROCS " + g.libs[0].procs
		}
		fmt.Fprintf(w, "### %s (median of %d run%s%s)\n\n", g.name, runs, plural(runs), procs)
		vs := "vs baseline"
		if baseLib != nil {
			vs = "vs " + baseLib.name
		}
		fmt.Fprintf(w, "| library | ns/op | ± | B/op | allocs/op | %s |\n", vs)
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
		for _, l := range g.libs {
			ns := median(l.ns)
			ratio := "—"
			if baseLib != nil {
				if b := median(baseLib.ns); b > 0 {
					ratio = fmt.Sprintf("%.2fx", ns/b)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %.0f%% | %s | %s | %s |\n",
				l.name, formatNs(ns), spread(l.ns), formatCount(median(l.bytes)), formatCount(median(l.allocs)), ratio)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func formatNs(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func formatCount(v float64) string {
	if v < 0 {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
