# Sourced by the CI scripts: `stage NAME COMMAND...` runs one stage of a
# script, printing its name before and its wall time after; a failing stage
# stops the script (set -e) with its time printed. `stages_summary` prints
# every stage's time at the end.
#
# COMMAND (a program or a shell function) runs in a subshell started in the
# background and waited for: in bash, `set -e` is off inside anything run as
# `cmd || ...`, so a function whose middle command failed would pass. The
# subshell keeps it on; variables it sets do not reach the caller.
_stage_times=()

stage() {
    local name=$1 start=$SECONDS status=0
    shift
    printf '\n==> %s\n' "$name"
    "$@" &
    wait $! || status=$?
    local took=$((SECONDS - start))
    _stage_times+=("$(printf '%4d min %2d s  %s' $((took / 60)) $((took % 60)) "$name")")
    if [ "$status" != 0 ]; then
        printf '<== %s FAILED (exit %d) after %d min %d s\n' "$name" "$status" $((took / 60)) $((took % 60)) >&2
        stages_summary >&2
        return "$status"
    fi
    printf '<== %s: %d min %d s\n' "$name" $((took / 60)) $((took % 60))
}

stages_summary() {
    printf '\nstage times:\n'
    printf '  %s\n' "${_stage_times[@]}"
}
