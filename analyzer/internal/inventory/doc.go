// Package inventory catalogs an appliance root filesystem with Syft and turns every package Syft finds into an
// identity component ([ingest.Component]) whose fields point at the exact
// file and key they were read from.
//
// A root filesystem taken from an appliance is an installed system, so it is
// cataloged the way Syft catalogs a container image: with the catalogers
// tagged "image" (dpkg status, apk and rpm databases, installed
// node_modules/*/package.json, python site-packages, jars, binaries, ...)
// rather than the "directory" defaults, which read lock files and other
// declarations of intent and miss installed npm packages entirely.
//
// Only local sources are used. [Catalog] builds Syft's directory source
// directly (no source auto-detection), so no registry, daemon (docker,
// podman, containerd) or containers-storage provider is ever tried;
// container images are flattened by the caller and catalogued as a tree. Every cataloger option that can reach the network
// or read the host outside the scanned tree (remote license lookups for Go,
// npm and PyPI, Maven Central, the host's Go module cache and ~/.m2, the Go
// packages library that runs the go tool) is switched off explicitly.
//
// The package writes nothing to stdout or stderr. Syft and stereoscope log
// to a discarding logger unless the program installs one with
// syft.SetLogger; this package never does, so the caller stays in control.
package inventory
