package commands

// KeyDoc documents one KD control key.
type KeyDoc struct {
	Byte    byte
	Syntax  string
	Summary string
}

// Keys lists KD's control keys in the order help and the docs show them.
var Keys = []KeyDoc{
	{0x01, "CTRL+A ENTER", "cycle the host's serial baud rate 19200, 38400, 57600, 115200 (serial ports only)"},
	{0x02, "CTRL+B ENTER", "quit kd at once without touching the target (it stays as it is)"},
	{0x03, "CTRL+C", "break into a running target; cancel the command in progress when it is stopped"},
	{0x04, "CTRL+D ENTER", "toggle the packet trace on the console"},
	{0x06, "CTRL+F ENTER", "break in, as CTRL+C"},
	{0x0B, "CTRL+K ENTER", "cycle the break state after a reboot: none, initial breakpoint (-b), first module load (-d)"},
	{0x10, "CTRL+P ENTER", "not supported (obsolete debug-the-debugger key)"},
	{0x12, "CTRL+R ENTER", "resynchronise with the target (RESET packets); a running target answers when it next talks or after CTRL+C"},
	{0x16, "CTRL+V ENTER", "toggle verbose output"},
	{0x17, "CTRL+W ENTER", "show kd's version"},
	{0x1C, `CTRL+\ ENTER`, "not supported (debug-the-debugger key)"},
}
