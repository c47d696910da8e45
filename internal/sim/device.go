package sim

import "time"

// DeviceOptions configures ServeDevice.
type DeviceOptions struct {
	Baud         int    // line speed, one of DeviceBauds
	ExitOnReboot bool   // return ErrRebooted when the host reboots the target
	Ready        func() // called once the line is open, configured and settled; may be nil
	// Settle, if positive, throws away what arrives after the line is
	// opened until it has been quiet this long (10 s at most). A
	// hypervisor's serial backend holds what the host sent while the guest
	// was not reading (QEMU stops taking bytes from its socket when the
	// UART's receive FIFO is full) and delivers it all when the guest
	// opens the port: a debugger that was waiting sent a RESET a second.
	Settle time.Duration
}

// DeviceBauds are the line speeds ServeDevice can set, those of KD's
// serial transport.
var DeviceBauds = []int{9600, 19200, 38400, 57600, 115200}
