package render

import (
	"fmt"
	"time"
)

// Addr formats a 64-bit address or value as KD does: two 8-digit halves
// joined by a backtick.
func Addr(v uint64) string {
	return fmt.Sprintf("%08x`%08x", v>>32, uint32(v))
}

// Time formats a time as KD's session times: "Fri Nov 27 03:32:18.123
// 2026 (UTC + 0:00)".
func Time(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s (UTC %s %d:%02d)", t.Format("Mon Jan 2 15:04:05.000 2006"), sign, off/3600, off%3600/60)
}

// WindowsName names the Windows release of a build number the way KD's
// connection line does ("Windows 10", "Windows 7", ...).
func WindowsName(build uint16) string {
	switch {
	case build >= 10240:
		return "Windows 10"
	case build >= 9600:
		return "Windows 8.1"
	case build >= 9200:
		return "Windows 8"
	case build >= 7600:
		return "Windows 7"
	case build >= 6000:
		return "Windows Vista"
	case build >= 3790:
		return "Windows Server 2003"
	case build >= 2600:
		return "Windows XP"
	case build >= 2195:
		return "Windows 2000"
	}
	return "Windows"
}
