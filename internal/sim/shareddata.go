package sim

import "time"

// SharedDataVA is the kernel address of KUSER_SHARED_DATA on x64.
const SharedDataVA = 0xfffff78000000000

// SimUptime is how long kdsim's machine claims to have been up: the
// InterruptTime its KUSER_SHARED_DATA holds. It is fixed (the simulated
// clock does not run between stops) so that transcripts repeat.
const SimUptime = 3*time.Hour + 25*time.Minute + 7*time.Second + 512*time.Millisecond

// Offsets in KUSER_SHARED_DATA (public layout).
const (
	sdTickCountMultiplier = 0x004
	sdInterruptTime       = 0x008 // KSYSTEM_TIME: LowPart, High1Time, High2Time (100 ns units)
	sdNtBuildNumber       = 0x260
	sdNtMajorVersion      = 0x26c
	sdNtMinorVersion      = 0x270
)

// buildSharedData maps KUSER_SHARED_DATA and fills the fields kd reads:
// the interrupt time (.time's System Uptime) and the version numbers. It
// runs last, so the physical pages of everything built before keep their
// addresses.
func (im *image) buildSharedData(cfg Config) {
	im.mapNew(SharedDataVA, pteKernelData)
	v := im.vmem
	t := uint64(SimUptime / 100)
	v.put32(SharedDataVA+sdTickCountMultiplier, 0x0fa00000)
	v.put32(SharedDataVA+sdInterruptTime, uint32(t))
	v.put32(SharedDataVA+sdInterruptTime+4, uint32(t>>32))
	v.put32(SharedDataVA+sdInterruptTime+8, uint32(t>>32))
	v.put32(SharedDataVA+sdNtBuildNumber, uint32(cfg.Build))
	v.put32(SharedDataVA+sdNtMajorVersion, 10)
	v.put32(SharedDataVA+sdNtMinorVersion, 0)
}
