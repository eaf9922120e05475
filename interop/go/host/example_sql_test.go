package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

const sqlPluginID = "acme-sql-datasource"

// sqlT0 is 2026-11-21T10:00:00Z, the start of the SQL queries' range.
var sqlT0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// sqlSetup creates the table of the tests through the data source itself:
// the example runs a query's SQL as written (sqlx raw_sql, several
// statements allowed), and statements without results answer a frame
// without fields (crates/plugin-sql/src/frame.rs query_frame).
const sqlSetup = `CREATE TABLE metrics (time DATETIME, host TEXT, value REAL);
INSERT INTO metrics VALUES
  ('2026-11-21 10:00:00', 'a', 1), ('2026-11-21 10:00:00', 'b', 10),
  ('2026-11-21 10:02:00', 'a', 3), ('2026-11-21 10:02:00', 'b', 30),
  ('2026-11-21 10:04:00', 'a', NULL);`

func sqlQuery(refID, queryJSON string) backend.DataQuery {
	q := testQuery(refID, queryJSON)
	q.TimeRange = backend.TimeRange{From: sqlT0, To: sqlT0.Add(5 * time.Minute)}
	q.Interval = time.Minute
	return q
}

// columnValues is field i of frame's values.
func columnValues(frame *data.Frame, i int) []any {
	var values []any
	for row := range frame.Fields[i].Len() {
		values = append(values, frame.Fields[i].At(row))
	}
	return values
}

// plainValues turns nullable values into plain ones and nulls into nil, so
// columns compare the same whichever nullability the frame chose.
func plainValues(values []any) []any {
	out := make([]any, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case *float64:
			if v != nil {
				out[i] = *v
			}
		case *string:
			if v != nil {
				out[i] = *v
			}
		case *time.Time:
			if v != nil {
				out[i] = *v
			}
		default:
			out[i] = v
		}
	}
	return out
}

func TestExampleSQLDataSource(t *testing.T) {
	dir := t.TempDir()
	// The example opens the file without creating it (a bad path shows in
	// the health check); SQLite reads an empty file as an empty database.
	db := filepath.Join(dir, "metrics.sqlite")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPlugin(t, sqlBinary)
	pctx := withDataSourceID(dataSourceContext(t, sqlPluginID, "sql-1", map[string]any{"path": db}), 1)

	health := func(t *testing.T, pctx backend.PluginContext) *backend.CheckHealthResult {
		t.Helper()
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
		if err != nil {
			t.Fatalf("CheckHealth: %v", err)
		}
		result := backend.FromProto().CheckHealthResponse(resp)
		t.Logf("answer: CheckHealth: %v %q", result.Status, result.Message)
		return result
	}

	t.Run("CheckHealth", func(t *testing.T) {
		if h := health(t, pctx); h.Status != backend.HealthStatusOk || h.Message != "Data source is working" {
			t.Errorf("health = %v %q", h.Status, h.Message)
		}
		missing := withDataSourceID(dataSourceContext(t, sqlPluginID, "sql-2", map[string]any{"path": filepath.Join(dir, "no", "such", "db.sqlite")}), 2)
		if h := health(t, missing); h.Status != backend.HealthStatusError || !strings.Contains(h.Message, "unable to open database file") {
			t.Errorf("health of a missing file = %v %q", h.Status, h.Message)
		}
	})

	t.Run("QueryData/setup", func(t *testing.T) {
		resp := queryData(t, p, &backend.QueryDataRequest{
			PluginContext: pctx,
			Queries:       []backend.DataQuery{sqlQuery("setup", `{"format": "table", "rawSql": `+jsonString(t, sqlSetup)+`}`)},
		})
		r := resp.Responses["setup"]
		if r.Error != nil {
			t.Fatalf("creating the table: %v", r.Error)
		}
		if len(r.Frames) != 1 || len(r.Frames[0].Fields) != 0 {
			t.Errorf("setup answered %v, want one frame without fields", r.Frames)
		}
		if r.Frames[0].Meta == nil || r.Frames[0].Meta.ExecutedQueryString != sqlSetup {
			t.Errorf("setup frame meta %+v, want the executed SQL", r.Frames[0].Meta)
		}
	})

	for _, format := range formats {
		t.Run("QueryData/"+formatName(format), func(t *testing.T) {
			resp := queryData(t, p, &backend.QueryDataRequest{
				PluginContext: pctx,
				Format:        format,
				Queries: []backend.DataQuery{
					sqlQuery("table", `{"rawSql": "SELECT * FROM metrics WHERE $__timeFilter(time)", "format": "table"}`),
					sqlQuery("series", `{"rawSql": "SELECT time, host, value FROM metrics ORDER BY time"}`),
					sqlQuery("grid", `{"rawSql": "SELECT $__timeGroupAlias(time, 1m, 0), sum(value) AS value FROM metrics WHERE host = 'a' GROUP BY 1 ORDER BY 1"}`),
					sqlQuery("logs", `{"rawSql": "SELECT time, host AS body FROM metrics WHERE host = 'b' ORDER BY time", "format": "logs"}`),
					sqlQuery("broken", `{"rawSql": "SELECT * FROM nowhere"}`),
					sqlQuery("badjson", `{"rawSql": 5}`),
				},
			})
			ok := func(refID string) *data.Frame {
				t.Helper()
				r := resp.Responses[refID]
				if r.Error != nil || len(r.Frames) != 1 {
					t.Fatalf("%s: error %v, %d frames", refID, r.Error, len(r.Frames))
				}
				f := r.Frames[0]
				// sqlds query.go getFrames: named after the refId, with the
				// interpolated SQL.
				if f.Name != refID || f.Meta == nil || strings.Contains(f.Meta.ExecutedQueryString, "$__") {
					t.Errorf("%s: frame %q meta %+v", refID, f.Name, f.Meta)
				}
				for i, field := range f.Fields {
					t.Logf("answer: QueryData %s: field %q %s labels %v values %v", refID, field.Name, field.Type(), field.Labels, plainValues(columnValues(f, i)))
				}
				return f
			}

			table := ok("table")
			if table.Meta.PreferredVisualization != data.VisTypeTable {
				t.Errorf("table: preferred visualisation %q", table.Meta.PreferredVisualization)
			}
			if len(table.Fields) != 3 || !table.Fields[0].Type().Time() {
				t.Fatalf("table fields: %v", table.Fields)
			}
			at := func(m int) time.Time { return sqlT0.Add(time.Duration(m) * time.Minute) }
			wantTable := [][]any{
				{at(0), at(0), at(2), at(2), at(4)},
				{"a", "b", "a", "b", "a"},
				{1.0, 10.0, 3.0, 30.0, nil},
			}
			for i, want := range wantTable {
				if diff := cmp.Diff(want, plainValues(columnValues(table, i))); diff != "" {
					t.Errorf("table column %q (-want +got):\n%s", table.Fields[i].Name, diff)
				}
			}

			// Time series: the long frame becomes wide, one value field per
			// host (data/sqlutil → data.LongToWide), missing points null.
			series := ok("series")
			if series.Meta.PreferredVisualization != data.VisTypeGraph {
				t.Errorf("series: preferred visualisation %q", series.Meta.PreferredVisualization)
			}
			if len(series.Fields) != 3 {
				t.Fatalf("series fields: %v", series.Fields)
			}
			if diff := cmp.Diff([]any{at(0), at(2), at(4)}, plainValues(columnValues(series, 0))); diff != "" {
				t.Errorf("series times (-want +got):\n%s", diff)
			}
			for i, want := range []struct {
				host   string
				values []any
			}{{"a", []any{1.0, 3.0, nil}}, {"b", []any{10.0, 30.0, nil}}} {
				field := series.Fields[i+1]
				if field.Name != "value" || field.Labels["host"] != want.host {
					t.Errorf("series field %d: %q %v, want value{host=%s}", i+1, field.Name, field.Labels, want.host)
				}
				if diff := cmp.Diff(want.values, plainValues(columnValues(series, i+1))); diff != "" {
					t.Errorf("series host %s (-want +got):\n%s", want.host, diff)
				}
			}

			// $__timeGroupAlias(time, 1m, 0): one point a minute over the
			// range, empty minutes filled with 0; a NULL sum stays null.
			grid := ok("grid")
			var minutes []any
			for m := range 6 {
				minutes = append(minutes, at(m))
			}
			if len(grid.Fields) != 2 {
				t.Fatalf("grid fields: %v", grid.Fields)
			}
			if diff := cmp.Diff(minutes, plainValues(columnValues(grid, 0))); diff != "" {
				t.Errorf("grid times (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]any{1.0, 0.0, 3.0, 0.0, nil, 0.0}, plainValues(columnValues(grid, 1))); diff != "" {
				t.Errorf("grid values (-want +got):\n%s", diff)
			}

			logs := ok("logs")
			if logs.Meta.PreferredVisualization != data.VisTypeLogs {
				t.Errorf("logs: preferred visualisation %q", logs.Meta.PreferredVisualization)
			}
			if diff := cmp.Diff([]any{"b", "b"}, plainValues(columnValues(logs, 1))); diff != "" {
				t.Errorf("logs bodies (-want +got):\n%s", diff)
			}

			// A failing query: its error, source downstream (sqlds), and the
			// empty frame carrying the SQL (data/sqlutil/query.go
			// ErrorFrameFromQuery).
			broken := resp.Responses["broken"]
			if broken.Error == nil || !strings.Contains(broken.Error.Error(), "no such table: nowhere") || broken.ErrorSource != backend.ErrorSourceDownstream {
				t.Errorf("broken: error %v source %q", broken.Error, broken.ErrorSource)
			}
			if len(broken.Frames) != 1 || broken.Frames[0].Name != "broken" || broken.Frames[0].Meta == nil ||
				broken.Frames[0].Meta.ExecutedQueryString != "SELECT * FROM nowhere" {
				t.Errorf("broken: frames %v", broken.Frames)
			}
			t.Logf("answer: QueryData broken: status %d source %q error %q", broken.Status, broken.ErrorSource, broken.Error)
			// data/sqlutil/query.go GetQuery: a downstream ErrorJSON.
			badJSON := resp.Responses["badjson"]
			if badJSON.Error == nil || !strings.Contains(badJSON.Error.Error(), "error unmarshaling query JSON to the Query Model") ||
				badJSON.ErrorSource != backend.ErrorSourceDownstream {
				t.Errorf("badjson: error %v source %q", badJSON.Error, badJSON.ErrorSource)
			}
			t.Logf("answer: QueryData badjson: status %d source %q error %q", badJSON.Status, badJSON.ErrorSource, badJSON.Error)
		})
	}

	t.Run("QueryData/rowLimit", func(t *testing.T) {
		limited := withDataSourceID(dataSourceContext(t, sqlPluginID, "sql-3", map[string]any{"path": db, "rowLimit": 2}), 3)
		resp := queryData(t, p, &backend.QueryDataRequest{
			PluginContext: limited,
			Queries:       []backend.DataQuery{sqlQuery("A", `{"rawSql": "SELECT * FROM metrics", "format": "table"}`)},
		})
		r := resp.Responses["A"]
		if r.Error != nil || len(r.Frames) != 1 {
			t.Fatalf("error %v, %d frames", r.Error, len(r.Frames))
		}
		f := r.Frames[0]
		// data/sqlutil/sql.go FrameFromRows: the notice of a reached limit.
		want := []data.Notice{{Severity: data.NoticeSeverityWarning, Text: "Results have been limited to 2 because the SQL row limit was reached"}}
		if f.Rows() != 2 || f.Meta == nil || !cmp.Equal(want, f.Meta.Notices) {
			t.Errorf("%d rows, meta %+v; want 2 rows and the notice %v", f.Rows(), f.Meta, want)
		}
	})

	assertNoHandlers(t, p, pctx, "QueryChunkedData", "CallResource", "SubscribeStream", "PublishStream", "RunStream",
		"ValidateAdmission", "MutateAdmission", "ConvertObjects")
	t.Run("CollectMetrics", func(t *testing.T) { assertMetrics(t, p) })
	p.stop(t)
}
