//go:build ignore

// Writes time_range.tsv: how grafana-plugin-sdk-go's gtime.TimeRange reads
// each input, for tests/golden.rs to replay against the Rust crate.
//
// Run from interop/go (its go.mod pins the SDK), with TZ=UTC because Go
// reads epoch milliseconds after "||" in the machine's local zone:
//
//	cd interop/go && TZ=UTC go run ../../crates/plugin-time/tests/golden/gen.go \
//	    > ../../crates/plugin-time/tests/golden/time_range.tsv
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
)

type setting struct {
	location  string
	weekstart time.Weekday
	fiscal    time.Month
}

var settings = []setting{
	{"UTC", time.Monday, time.January},
	{"America/Chicago", time.Sunday, time.July},
	{"Europe/Berlin", time.Monday, time.April},
	{"Asia/Kolkata", time.Saturday, time.October},
	{"Australia/Lord_Howe", time.Wednesday, time.February},
}

var nows = []string{
	"2020-03-26T15:12:56.789Z",
	"2020-07-26T15:12:56Z",
	// Europe's and America's spring and autumn transitions.
	"2021-03-28T01:30:00Z",
	"2021-03-14T08:30:00Z",
	"2021-10-31T00:30:00Z",
	"2021-11-07T06:30:00Z",
	"2024-02-29T23:59:59.999Z",
	"2019-12-31T23:30:00Z",
}

func inputs() []string {
	in := []string{
		"now", "now-6h", "now/d", "now-1d/d", "now/w", "now-1w/w", "now/M",
		"now-1M/M", "now/y", "now-1y/y", "now/Q", "now/fy", "now/fQ", "now-1fQ/fQ",
		"now+3w", "now-3d", "now-90m", "now/h", "now/m", "now/s", "now/H",
		"now+5b", "now-5b", "now+1b", "now-12b", "now-2h/h", "now+M-1s", "now/d+8h",
		"now/w-1d", "now-5m/m", "now+0d", "now-", "now/b", "now+", "now/x",
		"5m", "5h", "7d", "2w", "1M", "1y", "-5m", "0", "1h30m", "1.5h", "-1d",
		"1474973725473", "-312325200000", "+1474973725473", "1474973725473||/d",
		"1474973725473||+1M", "2014", "2014-05", "2014-05-30", "2014-05-30T20",
		"2014-05-30T20:21", "2014-05-30T20:21:35", "2014-05-30T20:21:35.123",
		"2014-05-30T20:21:35.1", "2014-05-30T20:21+03:00", "2014-05-30T20:21-04:30",
		"2014-05-30T20:21Z", "2014-05-30T20:21Z||/d", "2014-11-18||+1M/w",
		"2014-11-18||-423d", "2014-05-30||", "2021-03-28T02:30", "2021-03-28T02:30||+1d",
		"2021-03-14T02:30||/d", "2021-10-31T02:30", "2021-11-07T01:30", "04:52:20",
		"04:52:20||+1h", "1960-02-01T07:00:00.000Z", "2014-00-10", "2014-02-00",
		"2014-13", "2014-02-30", "2016-02-29", "24", "2014-05-35T20:21:21Z", "no",
		"npe", "now-nope", "definitely-nope", "asdf", "", " now", "now ", "NOW",
		"2014-05-30T20:21:35.1234", "2014T10", "2014T10:30Z||/h", "20:30||/d",
	}
	// Every anchor with every unit, added, subtracted and rounded.
	for _, anchor := range []string{"now", "2021-03-27T02:30||", "2020-02-29T12:00:00Z||"} {
		for _, unit := range []string{"y", "fy", "Q", "fQ", "M", "w", "d", "b", "h", "m", "s"} {
			in = append(in, anchor+"+1"+unit, anchor+"-2"+unit, anchor+"/"+unit, anchor+"-1"+unit+"/"+unit)
		}
	}
	return in
}

// result runs parse, writing "error" for an error and "panic" where
// go-datemath panics (rounding to business days, "now/b").
func result(parse func(...gtime.TimeRangeOption) (time.Time, error), opts []gtime.TimeRangeOption) (s string) {
	defer func() {
		if recover() != nil {
			s = "panic"
		}
	}()
	t, err := parse(opts...)
	if err != nil {
		return "error"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func main() {
	var out strings.Builder
	out.WriteString("# now\tlocation\tweek start\tfiscal start month\tinput\tParseFrom\tParseTo\n")
	for _, now := range nows {
		n, err := time.Parse(time.RFC3339Nano, now)
		if err != nil {
			panic(err)
		}
		for _, s := range settings {
			loc, err := time.LoadLocation(s.location)
			if err != nil {
				panic(err)
			}
			opts := []gtime.TimeRangeOption{
				gtime.WithLocation(loc),
				gtime.WithWeekstart(s.weekstart),
				gtime.WithFiscalStartMonth(s.fiscal),
			}
			for _, in := range inputs() {
				tr := gtime.TimeRange{From: in, To: in, Now: n}
				from := result(tr.ParseFrom, opts)
				to := result(tr.ParseTo, opts)
				fmt.Fprintf(&out, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", now, s.location, s.weekstart, s.fiscal, in, from, to)
			}
		}
	}
	os.Stdout.WriteString(out.String())
}
