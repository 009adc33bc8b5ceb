package main

import (
	"errors"
	"fmt"
	"net/http"
)

// maxReportRows is the most rows a report page shows, and the most
// records the changes report (a row per record) reads.
const maxReportRows = 1000

// reportData is the reports page's data.
type reportData struct {
	Name   string
	Header []string // without the drill-down's column
	Rows   []reportRow
	Note   string
}

// reportRow is a row of a report: its cells and the search of its records.
type reportRow struct {
	Cells []string
	Link  string
}

// reportsPage shows one of the reports of 'auditlog report' over the
// records that pass the filters, each row linking to its records.
func (s *server) reportsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &page{Title: "Reports", Nav: "reports", Query: q}
	name := q.Get("report")
	if name == "" {
		name = "logons"
	}
	kind := lookupReport(name)
	if kind == nil {
		p.Err = fmt.Sprintf("unknown report %q; want one of %s", name, reportNames())
		s.render(w, "reports", p)
		return
	}
	user, err := s.parseFilter(q)
	if err != nil {
		p.Err = err.Error()
		s.render(w, "reports", p)
		return
	}
	f := *user
	kind.restrict(&f)
	o := &reportOptions{dir: s.dir, drillTo: func(flags []string) string {
		return "/search?" + filterQuery(flags).Encode()
	}}
	t := kind.newTable(o, user)
	d := &reportData{Name: kind.name}
	p.Data = d
	sc, err := s.startScan(r, &f)
	if err != nil && !errors.Is(err, errNoFiles) {
		p.Err = err.Error()
		s.render(w, "reports", p)
		return
	}
	if sc != nil {
		n := 0
		for {
			en, ok := sc.next()
			if !ok {
				break
			}
			if n&0xfff == 0 && r.Context().Err() != nil {
				s.endScan(sc)
				return
			}
			rec, err := en.record()
			if err != nil {
				continue
			}
			if kind.name == "changes" && n == maxReportRows {
				d.Note = fmt.Sprintf("Only the first %d changes are shown: narrow the period or the filters.", maxReportRows)
				break
			}
			t.add(rec)
			n++
		}
		s.endScan(sc)
	}
	header, rows := t.table()
	d.Header = header[:len(header)-1]
	for i, row := range rows {
		if i == maxReportRows {
			d.Note = fmt.Sprintf("Only the first %d of %d rows are shown: narrow the period or the filters.", maxReportRows, len(rows))
			break
		}
		d.Rows = append(d.Rows, reportRow{Cells: row[:len(row)-1], Link: row[len(row)-1]})
	}
	s.render(w, "reports", p)
}
