# fish completion for xmsg(1). Installed as
# /usr/share/fish/vendor_completions.d/xmsg.fish.

function __xmsg_accounts
    set -l f
    if set -q XMSG_CONFIG
        set f $XMSG_CONFIG
    else if string match -q '/*' -- "$XDG_CONFIG_HOME"
        set f $XDG_CONFIG_HOME/xmsg/config
    else
        set f $HOME/.config/xmsg/config
    end
    test -e $f; or set f /etc/xmsg/config
    test -r $f; and sed -n 's/^[[:space:]]*\[account[[:space:]][[:space:]]*\([^][:space:]]*\)[[:space:]]*\].*$/\1/p' $f
end

set -l cmds send connect listen request config
complete -c xmsg -f
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -a send -d 'send a message and wait until the server has it'
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -a connect -d 'collect the messages stored for the account'
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -a listen -d 'print every stanza that arrives'
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -a request -d 'send a message or iq, print the reply'
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -a config -d 'print the effective configuration'
complete -c xmsg -n "not __fish_seen_subcommand_from $cmds" -l help -l version

# Every command
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s a -l account -x -a '(__xmsg_accounts)' -d 'account of the config file'
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s j -l jid -x -d 'account JID'
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s H -l host -x
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s P -l port -x
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s T -l timeout -x
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s l -l log-level -x -a 'debug info warn error'
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s v -l verbose
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -s h -l help
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -l params -r -F
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -l password-file -r -F
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -l ca-file -r -F
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -l pin -x
complete -c xmsg -n "__fish_seen_subcommand_from $cmds" -l insecure -l no-tls -l legacy-tls -l allow-plaintext -l legacy-auth -l keepalive
# send and request
complete -c xmsg -n "__fish_seen_subcommand_from send request" -s t -l to -x -d recipient
complete -c xmsg -n "__fish_seen_subcommand_from send request" -s m -l body -x
complete -c xmsg -n "__fish_seen_subcommand_from send request" -l type -x -a 'chat normal headline groupchat error get set result'
complete -c xmsg -n "__fish_seen_subcommand_from send request" -l kind -x -a 'message presence iq'
complete -c xmsg -n "__fish_seen_subcommand_from send request" -l show -x -a 'away chat dnd xa'
complete -c xmsg -n "__fish_seen_subcommand_from send request" -l subject -l id -l from -l lang -l attr -l payload -l thread -l status -x
complete -c xmsg -n "__fish_seen_subcommand_from send request" -l message -r -F
complete -c xmsg -n "__fish_seen_subcommand_from send" -l recipients -r -F -d 'file of JIDs'
complete -c xmsg -n "__fish_seen_subcommand_from send" -l batch -l raw
complete -c xmsg -n "__fish_seen_subcommand_from send" -l window -x
complete -c xmsg -n "__fish_seen_subcommand_from send" -l omemo -f -a 'required optional' -d 'OMEMO encryption (build with OMEMO)'
complete -c xmsg -n "__fish_seen_subcommand_from send listen" -l room -l nick -x
# connect and listen
complete -c xmsg -n "__fish_seen_subcommand_from connect listen" -l state-file -r -F
complete -c xmsg -n "__fish_seen_subcommand_from connect listen" -l no-mam
complete -c xmsg -n "__fish_seen_subcommand_from connect listen" -l download -x -a '(__fish_complete_directories)'
complete -c xmsg -n "__fish_seen_subcommand_from connect listen" -l download-max -x
complete -c xmsg -n "__fish_seen_subcommand_from connect" -l page-size -x
complete -c xmsg -n "__fish_seen_subcommand_from listen" -l type -x -a 'message presence iq all'
complete -c xmsg -n "__fish_seen_subcommand_from listen" -l from -l count -l until-idle -l duration -x
complete -c xmsg -n "__fish_seen_subcommand_from listen" -l no-presence -l no-reconnect
