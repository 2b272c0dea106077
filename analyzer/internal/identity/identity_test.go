package identity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/identity"
	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/signatures"
)

func TestMatch(t *testing.T) {
	set, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	doc := &ingest.Document{Components: []ingest.Component{
		{Name: "zlib", Location: "/components/0", Fields: []ingest.Field{
			{Kind: ingest.KindName, Value: "zlib", Location: "/components/0/name"},
			{Kind: ingest.KindSupplier, Value: "Kaspar Systems Ltd", Location: "/components/0/supplier/name"},
		}},
		{Name: "engine", Location: "/components/1", Fields: []ingest.Field{
			{Kind: ingest.KindSupplier, Value: "Kaspersky Lab ZAO", Location: "/components/1/supplier/name"},
			{Kind: ingest.KindCPE, Value: "cpe:/a:kaspersky_lab:kaspersky_anti-virus", Location: "/components/1/cpe"},
		}},
		{Name: "rspamd", Location: "/components/2", Fields: []ingest.Field{
			{Kind: ingest.KindDescription, Value: "connectors for ClamAV and Kaspersky", Location: "/components/2/description"},
		}},
	}}
	fs, err := identity.Match(context.Background(), set, "bom.json", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2 (engine, rspamd mention)", len(fs))
	}
	if fs[0].Subject.Location != "/components/1" || fs[0].Class != signatures.ClassComponent || fs[0].Confidence != signatures.High || len(fs[0].Evidence) != 2 {
		t.Errorf("engine finding = %+v", fs[0])
	}
	if fs[1].Class != signatures.ClassMention || fs[1].Evidence[0].Location.Path != "/components/2/description" {
		t.Errorf("rspamd finding = %+v", fs[1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := identity.Match(ctx, set, "bom.json", doc); err == nil {
		t.Error("Match ignored a cancelled context")
	}
}

func TestClip(t *testing.T) {
	if got := identity.Clip("short", 10); got != "short" {
		t.Errorf("Clip = %q", got)
	}
	long := strings.Repeat("ж", 150) // 300 bytes
	got := identity.Clip(long, 201)
	if !strings.HasSuffix(got, "…") || len(got) > 204 || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("Clip split a rune or kept too much: %d bytes", len(got))
	}
}
