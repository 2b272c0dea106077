package binmeta

import (
	"bytes"
	"crypto/x509/pkix"
	"debug/pe"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

const (
	// winCertTypePKCS7 is WIN_CERT_TYPE_PKCS_SIGNED_DATA.
	winCertTypePKCS7 = 2
	// maxSignatureDepth bounds the nesting of signatures in signatures.
	maxSignatureDepth = 4
	// maxDERElements bounds the elements binmeta splits one DER SET or
	// SEQUENCE into.
	maxDERElements = 4096

	oidSignedData      = "1.2.840.113549.1.7.2"
	oidNestedSignature = "1.3.6.1.4.1.311.2.4.1" // SPC_NESTED_SIGNATURE
	oidRFC3161         = "1.3.6.1.4.1.311.3.3.1" // an RFC 3161 time-stamp token
	oidSubjectKeyID    = "2.5.29.14"
)

// signature records the certificates of the Authenticode signatures in
// the security directory: WIN_CERTIFICATE entries holding PKCS#7
// SignedData. The directory's address is a file offset, not an RVA.
func (p *peFile) signature() error {
	d := p.dir(pe.IMAGE_DIRECTORY_ENTRY_SECURITY)
	if d.VirtualAddress == 0 || d.Size == 0 {
		return nil
	}
	table, err := p.s.read(int64(d.VirtualAddress), int64(d.Size), "certificate table")
	if err != nil {
		return err
	}
	a := &authenticode{max: p.s.lim.MaxSymbols}
	var errs []error
	for len(table) >= 8 {
		length := int64(le32(table))
		typ := binary.LittleEndian.Uint16(table[6:])
		if length < 8 || length > int64(len(table)) {
			errs = append(errs, fmt.Errorf("WIN_CERTIFICATE length %d, %d bytes left", length, len(table)))
			break
		}
		if typ == winCertTypePKCS7 {
			if err := a.contentInfo(table[8:length], 0, false); err != nil {
				errs = append(errs, err)
			}
		}
		table = table[min((length+7)&^7, int64(len(table))):]
	}
	p.f.Signers = append(p.f.Signers, a.certs...)
	if a.truncated {
		p.f.Truncated = true
	}
	return errors.Join(errs...)
}

// authenticode collects the certificates of nested PKCS#7 structures.
type authenticode struct {
	certs     []Signer
	max       int
	truncated bool
}

// certificate is one parsed certificate with what a signer info is
// matched against.
type certificate struct {
	Signer
	rawIssuer []byte
	serial    *big.Int
	keyID     []byte
}

// contentInfo parses a PKCS#7 ContentInfo holding SignedData and records
// its certificates. A time stamp's signers are not marked as signers.
func (a *authenticode) contentInfo(der []byte, depth int, timestamp bool) error {
	if depth > maxSignatureDepth {
		return nil
	}
	// A RawValue field keeps its explicit [0] tag: the content is the
	// element inside it.
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return fmt.Errorf("PKCS#7 content info: %w", err)
	}
	if ci.Type.String() != oidSignedData {
		return fmt.Errorf("PKCS#7 content type %s is not SignedData", ci.Type)
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return fmt.Errorf("PKCS#7 SignedData: %w", err)
	}
	if sd.Class != asn1.ClassUniversal || sd.Tag != asn1.TagSequence {
		return errors.New("PKCS#7 SignedData is not a SEQUENCE")
	}
	fields, err := derElements(sd.Bytes)
	if err != nil {
		return fmt.Errorf("PKCS#7 SignedData: %w", err)
	}
	var certs []certificate
	var signerInfos []asn1.RawValue
	var errs []error
	// version, digestAlgorithms, contentInfo, [0] certificates, [1] crls,
	// signerInfos.
	for i, fl := range fields {
		switch {
		case i < 3:
		case fl.Class == asn1.ClassContextSpecific && fl.Tag == 0:
			elems, err := derElements(fl.Bytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("PKCS#7 certificates: %w", err))
			}
			for _, el := range elems {
				if el.Class != asn1.ClassUniversal || el.Tag != asn1.TagSequence {
					continue // an attribute or other certificate format
				}
				c, err := parseCertificate(el.FullBytes)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				certs = append(certs, c)
			}
		case fl.Class == asn1.ClassUniversal && fl.Tag == asn1.TagSet:
			if signerInfos, err = derElements(fl.Bytes); err != nil {
				errs = append(errs, fmt.Errorf("PKCS#7 signer infos: %w", err))
			}
		}
	}
	for _, si := range signerInfos {
		if err := a.signerInfo(si, certs, depth, timestamp); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range certs {
		if len(a.certs) >= a.max {
			a.truncated = true
			break
		}
		a.certs = append(a.certs, c.Signer)
	}
	return errors.Join(errs...)
}

// signerInfo marks the certificate a SignerInfo names as a signer (unless
// it signs a time stamp) and parses the signatures nested in its
// unauthenticated attributes.
func (a *authenticode) signerInfo(si asn1.RawValue, certs []certificate, depth int, timestamp bool) error {
	fields, err := derElements(si.Bytes)
	if err != nil || len(fields) < 2 {
		return fmt.Errorf("PKCS#7 signer info: %d fields: %v", len(fields), err)
	}
	if !timestamp {
		a.markSigner(fields[1], certs)
	}
	var errs []error
	for _, fl := range fields[2:] {
		if fl.Class != asn1.ClassContextSpecific || fl.Tag != 1 {
			continue
		}
		attrs, err := derElements(fl.Bytes)
		if err != nil {
			return fmt.Errorf("PKCS#7 unauthenticated attributes: %w", err)
		}
		for _, attr := range attrs {
			var at struct {
				Type   asn1.ObjectIdentifier
				Values asn1.RawValue `asn1:"set"`
			}
			if _, err := asn1.Unmarshal(attr.FullBytes, &at); err != nil {
				errs = append(errs, fmt.Errorf("PKCS#7 attribute: %w", err))
				continue
			}
			var ts bool
			switch at.Type.String() {
			case oidNestedSignature:
			case oidRFC3161:
				ts = true
			default:
				continue
			}
			values, err := derElements(at.Values.Bytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("PKCS#7 attribute %s: %w", at.Type, err))
			}
			for _, v := range values {
				if err := a.contentInfo(v.FullBytes, depth+1, ts); err != nil {
					errs = append(errs, fmt.Errorf("nested signature: %w", err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// markSigner marks the certificate sid (IssuerAndSerialNumber or [0]
// SubjectKeyIdentifier) names. A signer absent from the certificates is
// recorded by its issuer and serial number alone.
func (a *authenticode) markSigner(sid asn1.RawValue, certs []certificate) {
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 {
		for i := range certs {
			if certs[i].keyID != nil && bytes.Equal(certs[i].keyID, sid.Bytes) {
				certs[i].Signer.Signer = true
			}
		}
		return
	}
	var ias struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
		return
	}
	for i := range certs {
		if bytes.Equal(certs[i].rawIssuer, ias.Issuer.FullBytes) && certs[i].serial.Cmp(ias.Serial) == 0 {
			certs[i].Signer.Signer = true
			return
		}
	}
	issuer, _, _ := parseName(ias.Issuer.FullBytes)
	if len(a.certs) < a.max {
		a.certs = append(a.certs, Signer{Issuer: issuer, SerialNumber: serialString(ias.Serial), Signer: true})
	}
}

// parseCertificate reads the names, serial number and subject key
// identifier of an X.509 certificate. It parses the TBSCertificate itself
// rather than with crypto/x509, which rejects certificates that old
// signatures carry (negative serial numbers, odd encodings).
func parseCertificate(der []byte) (certificate, error) {
	var cert struct {
		TBS asn1.RawValue
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return certificate{}, fmt.Errorf("certificate: %w", err)
	}
	fields, err := derElements(cert.TBS.Bytes)
	if err != nil {
		return certificate{}, fmt.Errorf("certificate: %w", err)
	}
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		fields = fields[1:] // version
	}
	// serialNumber, signature, issuer, validity, subject, ...
	if len(fields) < 5 {
		return certificate{}, fmt.Errorf("certificate: %d fields, want at least 5", len(fields))
	}
	var c certificate
	c.serial = new(big.Int)
	if _, err := asn1.Unmarshal(fields[0].FullBytes, &c.serial); err != nil {
		return certificate{}, fmt.Errorf("certificate serial number: %w", err)
	}
	c.SerialNumber = serialString(c.serial)
	c.rawIssuer = fields[2].FullBytes
	if c.Issuer, _, err = parseName(fields[2].FullBytes); err != nil {
		return certificate{}, fmt.Errorf("certificate issuer: %w", err)
	}
	var subject pkix.Name
	if c.Subject, subject, err = parseName(fields[4].FullBytes); err != nil {
		return certificate{}, fmt.Errorf("certificate subject: %w", err)
	}
	c.CommonName = subject.CommonName
	c.Organization = strings.Join(subject.Organization, ", ")
	for _, fl := range fields[5:] {
		if fl.Class == asn1.ClassContextSpecific && fl.Tag == 3 {
			c.keyID = subjectKeyID(fl.Bytes)
		}
	}
	return c, nil
}

// subjectKeyID returns the subject key identifier among the DER-encoded
// extensions ext, nil when there is none.
func subjectKeyID(ext []byte) []byte {
	var exts []pkix.Extension
	if _, err := asn1.Unmarshal(ext, &exts); err != nil {
		return nil
	}
	for _, e := range exts {
		if e.Id.String() == oidSubjectKeyID {
			var id []byte
			if _, err := asn1.Unmarshal(e.Value, &id); err == nil {
				return id
			}
		}
	}
	return nil
}

// parseName decodes a DER-encoded distinguished name into its RFC 2253
// string and its parsed form.
func parseName(der []byte) (string, pkix.Name, error) {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdn); err != nil {
		return "", pkix.Name{}, err
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	return rdn.String(), name, nil
}

// serialString formats a serial number in lower-case hex, negative ones
// with a leading "-".
func serialString(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.Text(16)
}

// derElements splits the contents of a DER SET or SEQUENCE into its
// elements.
func derElements(b []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(b) > 0 {
		if len(out) >= maxDERElements {
			return out, fmt.Errorf("more than %d elements", maxDERElements)
		}
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return out, err
		}
		out = append(out, v)
		b = rest
	}
	return out, nil
}
