package signatures

import (
	"encoding/json"
	"fmt"
)

// Class says what a match proves. The order matters: engine is the
// strongest claim, mention the weakest.
type Class string

// Classes, strongest first.
const (
	// ClassEngine: a Kaspersky scanning engine, its signature bases or its
	// SDK is present.
	ClassEngine Class = "engine"
	// ClassComponent: a component developed or supplied by a Kaspersky
	// entity (library, package, updater, licence artefact).
	ClassComponent Class = "component"
	// ClassService: the product talks to Kaspersky infrastructure (update,
	// KSN or activation hosts).
	ClassService Class = "service"
	// ClassMention: the input only mentions Kaspersky (a connector, a
	// registry table, a detection name). Never blocking on its own.
	ClassMention Class = "mention"
)

// Classes lists every class, strongest first.
var Classes = []Class{ClassEngine, ClassComponent, ClassService, ClassMention}

// Rank orders classes: a lower rank is a stronger claim. Unknown classes
// rank last.
func (c Class) Rank() int {
	for i, k := range Classes {
		if k == c {
			return i
		}
	}
	return len(Classes)
}

// IsValid reports whether c is one of the defined classes.
func (c Class) IsValid() bool { return c.Rank() < len(Classes) }

// AtLeast reports whether c is as strong as, or stronger than, min.
func (c Class) AtLeast(min Class) bool { return c.Rank() <= min.Rank() }

// ParseClass returns the class named s.
func ParseClass(s string) (Class, error) {
	c := Class(s)
	if !c.IsValid() {
		return "", fmt.Errorf("unknown class %q (want one of engine, component, service, mention)", s)
	}
	return c, nil
}

// UnmarshalJSON refuses unknown classes.
func (c *Class) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseClass(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Confidence grades how sure a match is.
type Confidence string

// Confidences, highest first.
const (
	High   Confidence = "high"
	Medium Confidence = "medium"
	Low    Confidence = "low"
)

// Confidences lists every confidence, highest first.
var Confidences = []Confidence{High, Medium, Low}

// Rank orders confidences: a lower rank is more confident.
func (c Confidence) Rank() int {
	for i, k := range Confidences {
		if k == c {
			return i
		}
	}
	return len(Confidences)
}

// IsValid reports whether c is one of the defined confidences.
func (c Confidence) IsValid() bool { return c.Rank() < len(Confidences) }

// ParseConfidence returns the confidence named s.
func ParseConfidence(s string) (Confidence, error) {
	c := Confidence(s)
	if !c.IsValid() {
		return "", fmt.Errorf("unknown confidence %q (want one of high, medium, low)", s)
	}
	return c, nil
}

// UnmarshalJSON refuses unknown confidences.
func (c *Confidence) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseConfidence(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}
