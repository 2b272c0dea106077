package verdict_test

import (
	"fmt"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/verdict"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

func rule(id string, c signatures.Class, conf signatures.Confidence) *signatures.Rule {
	return &signatures.Rule{ID: id, Class: c, Confidence: conf, Title: id}
}

func ev(rule, path string) report.Evidence {
	return report.Evidence{Rule: rule, Kind: "identity", Field: "f", Value: "v", Location: report.Location{Input: "in", Path: path}}
}

func TestCombine(t *testing.T) {
	entity := rule("ENTITY", signatures.ClassComponent, signatures.High)
	copyright := rule("COPYRIGHT", signatures.ClassComponent, signatures.Medium)
	domain := rule("DOMAIN", signatures.ClassComponent, signatures.Medium)
	engine := rule("ENGINE", signatures.ClassEngine, signatures.Medium)
	mention := rule("MENTION", signatures.ClassMention, signatures.Low)
	tests := []struct {
		name      string
		matches   []verdict.Match
		wantRule  string
		wantClass signatures.Class
		wantConf  signatures.Confidence
		wantEv    int
	}{
		{"single", []verdict.Match{{entity, ev("ENTITY", "/a")}}, "ENTITY", signatures.ClassComponent, signatures.High, 1},
		{"strongest class leads", []verdict.Match{{entity, ev("ENTITY", "/a")}, {engine, ev("ENGINE", "/b")}}, "ENGINE", signatures.ClassEngine, signatures.High, 2},
		{"two medium rules agree", []verdict.Match{{copyright, ev("COPYRIGHT", "/a")}, {domain, ev("DOMAIN", "/b")}}, "COPYRIGHT", signatures.ClassComponent, signatures.High, 2},
		{"same rule twice does not raise", []verdict.Match{{domain, ev("DOMAIN", "/a")}, {domain, ev("DOMAIN", "/b")}}, "DOMAIN", signatures.ClassComponent, signatures.Medium, 2},
		{"mention alone", []verdict.Match{{mention, ev("MENTION", "/a")}}, "MENTION", signatures.ClassMention, signatures.Low, 1},
		{"mentions dropped from a stronger finding", []verdict.Match{{entity, ev("ENTITY", "/a")}, {mention, ev("MENTION", "/a")}, {mention, ev("MENTION", "/c")}}, "ENTITY", signatures.ClassComponent, signatures.High, 1},
		{"duplicates dropped", []verdict.Match{{entity, ev("ENTITY", "/a")}, {entity, ev("ENTITY", "/a")}}, "ENTITY", signatures.ClassComponent, signatures.High, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := verdict.Combine(report.Subject{Input: "in", Name: "x"}, tt.matches)
			if !ok {
				t.Fatal("no finding")
			}
			if f.Rule != tt.wantRule || f.Class != tt.wantClass || f.Confidence != tt.wantConf || len(f.Evidence) != tt.wantEv {
				t.Errorf("got rule %s class %s confidence %s evidence %d; want %s %s %s %d",
					f.Rule, f.Class, f.Confidence, len(f.Evidence), tt.wantRule, tt.wantClass, tt.wantConf, tt.wantEv)
			}
			if f.ID == "" {
				t.Error("empty id")
			}
		})
	}
	var many []verdict.Match
	for i := 0; i < verdict.MaxEvidence+5; i++ {
		many = append(many, verdict.Match{Rule: mention, Evidence: ev("MENTION", fmt.Sprintf("/f%03d", i))})
	}
	f, _ := verdict.Combine(report.Subject{}, many)
	if len(f.Evidence) != verdict.MaxEvidence || f.EvidenceOmitted != 5 || f.Evidence[0].Location.Path != "/f000" {
		t.Errorf("cap: %d listed, %d omitted, first %s", len(f.Evidence), f.EvidenceOmitted, f.Evidence[0].Location.Path)
	}
	if _, ok := verdict.Combine(report.Subject{}, nil); ok {
		t.Error("finding from no matches")
	}
}
