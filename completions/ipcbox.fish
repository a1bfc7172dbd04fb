# fish completion for ipcbox and its applet links.  Options and operand
# candidates come from the binary ('ipcbox --options APPLET',
# 'ipcbox --complete APPLET'), so they always match what is installed.

function __ipcbox_applet
    set -l words (commandline -opc)
    set -l applet (basename -- $words[1])
    if string match -q 'ipcbox*' -- $applet
        set applet $words[2]
        if not ipcbox --options $applet >/dev/null 2>&1
            set applet "$words[2]-$words[3]"
        end
    end
    echo $applet
end

function __ipcbox_options
    set -l applet (__ipcbox_applet)
    ipcbox --options $applet 2>/dev/null | while read -l short long arg kind
        if test "$long" != -
            printf "%s\n" $long
        end
        if test "$short" != -
            printf "%s\n" $short
        end
    end
end

# The kind of value (file, dir, host, or -) the option just before the
# cursor takes; status 1 if that word is no option of the applet taking one.
function __ipcbox_value_kind
    set -l prev (commandline -opc)[-1]
    string match -q -- '-*' $prev; or return 1
    ipcbox --options (__ipcbox_applet) 2>/dev/null | while read -l short long arg kind
        if test "$arg" != -; and contains -- $prev $short $long
            echo $kind
            break
        end
    end
end

# Whether the word being completed is the value of an option of one of the
# kinds given.
function __ipcbox_value_is
    set -l kind (__ipcbox_value_kind); or return 1
    contains -- "$kind" $argv
end

function __ipcbox_operands
    ipcbox --complete (__ipcbox_applet) 2>/dev/null
end

function __ipcbox_needs_applet
    set -l words (commandline -opc)
    test (count $words) -eq 1; and string match -q 'ipcbox*' -- (basename -- $words[1])
end

# "ipcbox FAMILY VERB": after a family name, its verbs
function __ipcbox_needs_verb
    set -l words (commandline -opc)
    test (count $words) -eq 2; and string match -q 'ipcbox*' -- (basename -- $words[1])
    and not ipcbox --options $words[2] >/dev/null 2>&1
end

function __ipcbox_verbs
    set -l words (commandline -opc)
    ipcbox --list 2>/dev/null | string replace -r -f -- "^$words[2]-" ''
end

complete -c ipcbox -f -n __ipcbox_needs_verb -a '(__ipcbox_verbs)'
complete -c ipcbox -f -n __ipcbox_needs_applet -a '(ipcbox --list) tcp unix shm sem mq bus channel --list --install --help --version'
for cmd in ipcbox (ipcbox --list 2>/dev/null)
    complete -c $cmd -f -n 'not __ipcbox_needs_applet; and not __ipcbox_needs_verb; and string match -q -- "-*" (commandline -ct)' -a '(__ipcbox_options)'
    complete -c $cmd -f -n 'not __ipcbox_needs_applet; and not __ipcbox_needs_verb; and not string match -q -- "-*" (commandline -ct); and not __ipcbox_value_is file dir host' -a '(__ipcbox_operands)'
    # an option's value: files, directories or host names by its kind
    complete -c $cmd -F -n 'not __ipcbox_needs_applet; and __ipcbox_value_is file'
    complete -c $cmd -f -n 'not __ipcbox_needs_applet; and __ipcbox_value_is dir' -a '(__fish_complete_directories (commandline -ct) "")'
    complete -c $cmd -f -n 'not __ipcbox_needs_applet; and __ipcbox_value_is host' -a '(__fish_print_hostnames)'
end
