package main

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/auditkit/audit"
)

// The timeline's chart, in the units of its SVG view box.
const (
	chartWidth  = 960
	chartHeight = 220
	// maxBars is the most bars drawn: an hourly chart of a longer period
	// is drawn by day, and a daily one shows its last maxBars days.
	maxBars = 744
)

// bar is one bucket of the timeline: its records split by outcome.
type bar struct {
	Start, End     time.Time
	OK, Failed     int
	X, W           float64
	OKY, OKH       float64
	FailY, FailH   float64
	Link, FailLink string // the search of the bar's records, and of its failures
}

// axisLabel is a label under the chart.
type axisLabel struct {
	X    float64
	Text string
}

// timelineData is the timeline page's data.
type timelineData struct {
	By            string // hour or day
	Bars          []bar
	Labels        []axisLabel
	Max           int
	Total, Failed int
	Note          string
	Width, Height int
}

// timelinePage draws the records that pass the filters per hour or day,
// failures stacked on successes, each bar a link to its records.
func (s *server) timelinePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &page{Title: "Timeline", Nav: "timeline", Query: q}
	f, err := s.parseFilter(q)
	if err != nil {
		p.Err = err.Error()
		s.render(w, "timeline", p)
		return
	}
	by := q.Get("by")
	if by != "" && by != "hour" && by != "day" {
		p.Err = fmt.Sprintf("by %q: want hour or day", by)
		s.render(w, "timeline", p)
		return
	}
	hours := map[int64]*[3]int{} // by the hour's Unix time, by audit.Outcome (0 unused)
	sc, err := s.startScan(r, f)
	if err != nil && !errors.Is(err, errNoFiles) {
		p.Err = err.Error()
		s.render(w, "timeline", p)
		return
	}
	if sc != nil {
		for i := 0; ; i++ {
			en, ok := sc.next()
			if !ok {
				break
			}
			if i&0xfff == 0 && r.Context().Err() != nil {
				s.endScan(sc)
				return
			}
			h := en.when().Unix()
			h -= h % 3600
			n := hours[h]
			if n == nil {
				n = new([3]int)
				hours[h] = n
			}
			n[en.outcome()]++
		}
		s.endScan(sc)
	}
	p.Data = s.timeline(f, hours, by)
	s.render(w, "timeline", p)
}

// timeline lays out the chart of the hourly counts.
func (s *server) timeline(f *filter, hours map[int64]*[3]int, by string) *timelineData {
	d := &timelineData{By: by, Width: chartWidth, Height: chartHeight}
	if len(hours) == 0 {
		if d.By == "" {
			d.By = "hour"
		}
		return d
	}
	keys := slices.Sorted(maps.Keys(hours))
	first, last := keys[0], keys[len(keys)-1]
	spanHours := (last-first)/3600 + 1
	if d.By == "" {
		d.By = "hour"
		if spanHours > 72 {
			d.By = "day"
		}
	}
	if d.By == "hour" && spanHours > maxBars {
		d.By = "day"
		d.Note = fmt.Sprintf("The period spans %d hours: drawn by day.", spanHours)
	}
	step := int64(3600)
	if d.By == "day" {
		step = 86400
	}
	counts := map[int64]*[3]int{}
	for h, n := range hours {
		b := h - h%step
		c := counts[b]
		if c == nil {
			c = new([3]int)
			counts[b] = c
		}
		c[audit.Succeeded] += n[audit.Succeeded]
		c[audit.Failed] += n[audit.Failed]
		d.Total += n[audit.Succeeded] + n[audit.Failed]
		d.Failed += n[audit.Failed]
	}
	start, end := first-first%step, last-last%step
	if nb := (end-start)/step + 1; nb > maxBars {
		start = end - (maxBars-1)*step
		d.Note = fmt.Sprintf("The period spans %d days: the last %d are drawn; narrow it with since and until.", nb, maxBars)
	}
	nb := int((end-start)/step + 1)
	for b := start; b <= end; b += step {
		if c := counts[b]; c != nil {
			d.Max = max(d.Max, c[audit.Succeeded]+c[audit.Failed])
		}
	}
	bw := float64(chartWidth) / float64(nb)
	gap := 0.0
	if bw > 4 {
		gap = 1
	}
	for i := range nb {
		b := start + int64(i)*step
		c := counts[b]
		if c == nil {
			c = new([3]int)
		}
		br := bar{Start: time.Unix(b, 0).UTC(), End: time.Unix(b+step, 0).UTC(), OK: c[audit.Succeeded], Failed: c[audit.Failed],
			X: float64(i) * bw, W: bw - gap}
		scale := float64(chartHeight) / float64(max(d.Max, 1))
		br.OKH = float64(br.OK) * scale
		br.FailH = float64(br.Failed) * scale
		br.OKY = chartHeight - br.OKH
		br.FailY = br.OKY - br.FailH
		bf := *f
		bf.since, bf.until = br.Start, br.End
		if !f.since.IsZero() && f.since.After(bf.since) {
			bf.since = f.since
		}
		if !f.until.IsZero() && f.until.Before(bf.until) {
			bf.until = f.until
		}
		br.Link = "/search?" + filterQuery(filterArgs(&bf)).Encode()
		o := audit.Failed
		bf.outcome = &o
		br.FailLink = "/search?" + filterQuery(filterArgs(&bf)).Encode()
		d.Bars = append(d.Bars, br)
	}
	// About eight labels, on bar boundaries.
	every := max(1, (nb+7)/8)
	layout := "01-02 15:00"
	if d.By == "day" {
		layout = "2006-01-02"
	}
	for i := 0; i < nb; i += every {
		d.Labels = append(d.Labels, axisLabel{X: float64(i) * bw, Text: d.Bars[i].Start.Format(layout)})
	}
	return d
}

// barTitle is the tooltip of a bar.
func barTitle(b bar, by string) string {
	layout := "2006-01-02 15:04"
	if by == "day" {
		layout = "2006-01-02"
	}
	return fmt.Sprintf("%s UTC: %d records, %d failed", b.Start.Format(layout), b.OK+b.Failed, b.Failed)
}
