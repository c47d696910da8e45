package main

// usage is kd's help text (kd -h, kd -?).
const usage = `kd: a KD-style console kernel debugger for Windows targets.

Usage:
    kd [options] -k CONNECT
    kd [options] -k            (connection from _NT_DEBUG_PORT and friends)
    kd --decode CAPTURE -k net:key=KEY

Connection strings (-k):
    com:port=PORT[,baud=RATE]                     serial port (com1, \\.\com1, /dev/ttyUSB0)
    com:pipe,port=PATH[,resets=N][,reconnect]     VM serial port: Unix socket or \\.\pipe\NAME
    com:ipport=TCPPORT,port=HOST[,reconnect]      serial port served over TCP (QEMU -serial tcp:)
    1394:channel=N[,symlink=channel|instance]     IEEE 1394
    sim                                           the built-in simulated Windows 10 x64 target

    resets=N bounds the RESET packets sent while waiting for the target and
    on CTRL+R (default 10; 0 = no limit).

Options:
    -k CONNECT            connect to the target
    -b                    break in at once after connecting (and after each reboot)
    -d                    break at the first module load after a reboot
    -v                    verbose output (also CTRL+V ENTER)
    -c "CMD; CMD"         run these commands first
    -cf FILE              run the commands in FILE first (before -c)
    -logo FILE            log everything to FILE (overwrite)
    -loga FILE            log everything to FILE (append)
    -y PATH               symbol path (kept for later; shown at connection)
    -version              print kd's version and exit
    -h, -?                print this help and exit
    --json                one JSON object per line on stdout: events and results
                          (docs/json.md); commands and key lines on stdin
    --trace[=FILE]        packet trace to stderr, or to FILE (also CTRL+D ENTER)
    --wait-timeout D      how long a scripted command waits for the target to
                          stop (default 30s)
    --decode CAPTURE      decrypt the KDNET session in a pcap or pcapng capture
                          and print it as the packet trace (with -k net:key=KEY)

KD's single-dash long options (-logo, -loga, -cf, -version, -?) are
accepted as written; so are their --double-dash forms.

Control keys (type the key, then ENTER; CTRL+C alone), also while the target runs:
    CTRL+C                break in; cancel the running command when stopped
    CTRL+R ENTER          resynchronize with the target (RESET packets)
    CTRL+B ENTER          quit at once, leaving the target as it is
    CTRL+D ENTER          toggle the packet trace
    CTRL+F ENTER          break in (as CTRL+C)
    CTRL+K ENTER          cycle the post-reboot break state
    CTRL+V ENTER          toggle verbose output
    CTRL+W ENTER          show kd's version
    CTRL+A ENTER          cycle the serial baud rate (serial ports only)

Scripted use: when stdin is not a terminal kd reads one command per line.
A line holding just a control byte (0x12 CTRL+R, 0x03 CTRL+C, 0x02 CTRL+B,
...) is that key followed by ENTER. Commands wait for the target to stop;
at the end of input kd detaches like CTRL+B.

Examples:
    kd -k sim                                     try kd on the simulator
    kd -b -k com:pipe,port=/tmp/kd.sock           a VM's serial port as a Unix socket
    kd -k com:pipe,port=\\.\pipe\com_1,resets=0,reconnect
    kd -k com:port=/dev/ttyUSB0,baud=115200 -logo session.log
    printf 'vertarget\nr\n\x12\nq\n' | kd -b -k com:pipe,port=/tmp/kd.sock

Exit status:
    0  every command succeeded
    1  a command failed
    2  usage error
    3  the connection was lost, could not be opened, or a wait timed out

Documentation: docs/usage.md and docs/commands.md.
`
