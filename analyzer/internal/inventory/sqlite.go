package inventory

// Syft's rpm cataloger opens newer RPM databases (rpmdb.sqlite) through
// database/sql with the driver name "sqlite". Without a registered driver
// syft.CreateSBOM fails on every input, with or without an RPM database, so
// the pure-Go driver is registered here.
import _ "modernc.org/sqlite"
