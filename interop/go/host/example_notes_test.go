package host

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
)

const notesPluginID = "acme-notes-app"

// TestExampleNotesApp drives the app plugin as Grafana drives apps: the
// same handshake and cookie as data sources (grpcplugin/client.go has one
// handshake for every plugin type), a plugin context with
// AppInstanceSettings and no data source, one instance per organisation
// (backend/app/instance_provider.go keys by org id).
func TestExampleNotesApp(t *testing.T) {
	p := startPlugin(t, notesBinary)
	org := func(orgID int64) backend.PluginContext {
		return appContext(t, notesPluginID, orgID, map[string]any{"title": "Team notes"})
	}
	request := func(method, path, body string) *backend.CallResourceRequest {
		req := &backend.CallResourceRequest{Path: path, Method: method, URL: path, Body: []byte(body)}
		if body != "" {
			req.Headers = map[string][]string{"Content-Type": {"application/json"}}
		}
		return req
	}
	call := func(pctx backend.PluginContext, req *backend.CallResourceRequest) []*backend.CallResourceResponse {
		t.Helper()
		req.PluginContext = pctx
		messages := callResource(t, p, req)
		if len(messages) > 0 {
			t.Logf("answer: CallResource %s %s (org %d): %d %s", req.Method, req.Path, pctx.OrgID, messages[0].Status, body(messages))
		}
		return messages
	}
	health := func(pctx backend.PluginContext) *backend.CheckHealthResult {
		t.Helper()
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
		if err != nil {
			t.Fatalf("CheckHealth: %v", err)
		}
		result := backend.FromProto().CheckHealthResponse(resp)
		t.Logf("answer: CheckHealth (org %d): %v %q", pctx.OrgID, result.Status, result.Message)
		return result
	}

	t.Run("CallResource and CheckHealth", func(t *testing.T) {
		if h := health(org(1)); h.Status != backend.HealthStatusOk || h.Message != "Team notes: 0 notes" {
			t.Errorf("health before = %v %q", h.Status, h.Message)
		}
		added := call(org(1), request(http.MethodPost, "notes", `{"text": "deploy on Friday"}`))
		// The note is signed with the calling user's login.
		assertResource(t, added, http.StatusCreated, map[string]any{"id": 1, "text": "deploy on Friday", "author": user.Login})
		assertResource(t, call(org(1), request(http.MethodGet, "notes", "")), http.StatusOK,
			[]any{map[string]any{"id": 1, "text": "deploy on Friday", "author": user.Login}})
		// Organisations never see each other's notes.
		assertResource(t, call(org(2), request(http.MethodGet, "notes", "")), http.StatusOK, []any{})
		assertResource(t, call(org(1), request(http.MethodGet, "settings", "")), http.StatusOK, map[string]any{"title": "Team notes"})
		if h := health(org(1)); h.Status != backend.HealthStatusOk || h.Message != "Team notes: 1 notes" {
			t.Errorf("health after = %v %q", h.Status, h.Message)
		}

		blank := call(org(1), request(http.MethodPost, "notes", `{"text": "  "}`))
		if len(blank) == 0 || blank[0].Status != http.StatusBadRequest || !strings.Contains(body(blank), "a note has 1 to 10000 bytes") {
			t.Errorf("blank note: %+v", blank)
		}
		if missing := call(org(1), request(http.MethodGet, "nowhere", "")); len(missing) == 0 || missing[0].Status != http.StatusNotFound {
			t.Errorf("unrouted path: %+v", missing)
		}

		// A backend-initiated call has no user; the app signs the note.
		anonymous := org(3)
		anonymous.User = nil
		assertResource(t, call(anonymous, request(http.MethodPost, "notes", `{"text": "from a job"}`)), http.StatusCreated,
			map[string]any{"id": 1, "text": "from a job", "author": notesPluginID})

		// No jsonData at all: the default title.
		untitled := org(4)
		untitled.AppInstanceSettings.JSONData = nil
		assertResource(t, call(untitled, request(http.MethodGet, "settings", "")), http.StatusOK, map[string]any{"title": "Notes"})
	})

	t.Run("new settings, new instance", func(t *testing.T) {
		call(org(5), request(http.MethodPost, "notes", `{"text": "kept in memory"}`))
		assertResource(t, call(org(5), request(http.MethodGet, "notes", "")), http.StatusOK,
			[]any{map[string]any{"id": 1, "text": "kept in memory", "author": user.Login}})
		// Saved settings (a later Updated) make the instance manager build a
		// fresh instance (backend/app/instance_provider.go NeedsUpdate); this
		// app keeps notes in memory only.
		saved := org(5)
		saved.AppInstanceSettings.Updated = saved.AppInstanceSettings.Updated.Add(time.Minute)
		saved.AppInstanceSettings.JSONData = []byte(`{"title": "Renamed"}`)
		assertResource(t, call(saved, request(http.MethodGet, "notes", "")), http.StatusOK, []any{})
		assertResource(t, call(saved, request(http.MethodGet, "settings", "")), http.StatusOK, map[string]any{"title": "Renamed"})
	})

	assertNoHandlers(t, p, org(1), "QueryData", "QueryChunkedData", "SubscribeStream", "PublishStream", "RunStream",
		"ValidateAdmission", "MutateAdmission", "ConvertObjects")
	t.Run("CollectMetrics", func(t *testing.T) { assertMetrics(t, p) })
	p.stop(t)
}
