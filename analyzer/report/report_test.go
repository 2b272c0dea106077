package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

func finding(class signatures.Class, loc string) report.Finding {
	s := report.Subject{Input: "in", Name: "x", Location: loc}
	return report.Finding{ID: report.FindingID("R", s), Rule: "R", Class: class, Confidence: signatures.High, Subject: s}
}

func TestFinishVerdict(t *testing.T) {
	gap := []report.Gap{{Location: report.Location{Input: "in"}, Reason: "encrypted"}}
	tests := []struct {
		name     string
		failOn   signatures.Class
		allow    bool
		findings []report.Finding
		gaps     []report.Gap
		want     report.Verdict
	}{
		{"nothing", signatures.ClassService, false, nil, nil, report.Clean},
		{"mention only", signatures.ClassService, false, []report.Finding{finding(signatures.ClassMention, "/a")}, nil, report.Clean},
		{"mention blocks on request", signatures.ClassMention, false, []report.Finding{finding(signatures.ClassMention, "/a")}, nil, report.Tainted},
		{"component", signatures.ClassService, false, []report.Finding{finding(signatures.ClassComponent, "/a")}, nil, report.Tainted},
		{"component under fail-on engine", signatures.ClassEngine, false, []report.Finding{finding(signatures.ClassComponent, "/a")}, nil, report.Clean},
		{"gap", signatures.ClassService, false, nil, gap, report.Incomplete},
		{"gap allowed", signatures.ClassService, true, nil, gap, report.Clean},
		{"tainted wins over gap", signatures.ClassService, false, []report.Finding{finding(signatures.ClassEngine, "/a")}, gap, report.Tainted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report.Report{Policy: report.Policy{FailOn: tt.failOn, AllowIncomplete: tt.allow}, Findings: tt.findings, Gaps: tt.gaps}
			r.Finish()
			if r.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s", r.Verdict, tt.want)
			}
		})
	}
}

func TestFinishOrder(t *testing.T) {
	r := &report.Report{Policy: report.Policy{FailOn: signatures.ClassService}, Findings: []report.Finding{
		finding(signatures.ClassMention, "/components/2"),
		finding(signatures.ClassComponent, "/components/10"),
		finding(signatures.ClassComponent, "/components/9"),
		finding(signatures.ClassEngine, "/components/11"),
	}}
	r.Finish()
	var got []string
	for _, f := range r.Findings {
		got = append(got, string(f.Class)+" "+f.Subject.Location)
	}
	want := "engine /components/11|component /components/9|component /components/10|mention /components/2"
	if strings.Join(got, "|") != want {
		t.Errorf("order = %v, want %v", strings.Join(got, "|"), want)
	}
}

func TestReadRefusesOtherSchema(t *testing.T) {
	if _, err := report.Read(strings.NewReader(`{"schema":"99"}`)); err == nil || !strings.Contains(err.Error(), `schema "99"`) {
		t.Fatalf("Read error = %v, want schema refusal", err)
	}
	r := &report.Report{Policy: report.Policy{FailOn: signatures.ClassService}}
	r.Finish()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) || !strings.Contains(buf.String(), `"gaps": []`) {
		t.Errorf("empty lists must be written as [], got:\n%s", buf.String())
	}
	if _, err := report.Read(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestLocationString(t *testing.T) {
	l := report.Location{Input: "fw.bin", Chain: []report.Layer{{Format: "uimage", Offset: 0x40}, {Format: "squashfs"}}, Path: "/opt/lib/libx.so", Offset: 0x1f20, Length: 4}
	if got, want := l.String(), "fw.bin!uimage@0x40!squashfs:/opt/lib/libx.so@0x1f20"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (report.Location{Input: "bom.json", Path: "/components/0/purl"}).String(), "bom.json:/components/0/purl"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
