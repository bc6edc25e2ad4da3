package daemonenv

import "os"

// Name is the variable the X-Ray SDKs read the daemon's address from.
const Name = "AWS_XRAY_DAEMON_ADDRESS"

var (
	value string
	set   bool
)

func init() {
	value, set = os.LookupEnv(Name)
	if set {
		_ = os.Unsetenv(Name)
	}
}

// Restore puts the variable back as it was when the process started. It must
// run after the SDK's package has initialised; calling it more than once is
// harmless.
func Restore() {
	if set {
		_ = os.Setenv(Name, value)
	}
}
