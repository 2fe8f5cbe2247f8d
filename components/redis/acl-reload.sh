#!/bin/bash
# acl-reload: sidecar of the shared Redis pod (components/redis/values.ts runs it with bash -c).
#
# When the kubelet updates the mounted ACL Secret (a tenant added or removed, a password rotated),
# apply the file to the running Redis: one `ACL SETUSER <user> reset <rules>` per line, then
# `ACL DELUSER` for users no longer listed (Redis closes their connections). Unlike `ACL LOAD`,
# which disconnects every client, SETUSER changes a user in place: no tenant loses its
# connections and Redis does not restart.
#
# A rotated password must also end the sessions opened with the old one: ACL_REVOKE_GRACE
# seconds after a user's passwords changed (time for the tenant's pods to roll onto the new
# Secret), close that user's connections that are older than the change. Connections opened
# since (which can only have used the new password) and other users' connections stay. Not
# `CLIENT KILL USER`, which would also close the pods already on the new password, and not
# `CLIENT KILL MAXAGE`, which Redis 7.0 lacks.
#
# Commands go to redis-cli on stdin, so passwords never appear in argv; only digests of them are
# kept. Needs bash, sed, grep, cut, sha256sum and redis-cli (the Redis image has them).
#   ACL_FILE             the mounted users.acl
#   REDIS_PASSWORD       the default user's password
#   REDIS_PORT           default 6379
#   ACL_RELOAD_INTERVAL  seconds between two looks at the file, default 5
#   ACL_REVOKE_GRACE     seconds from a password change to closing the old sessions, default 600
set -u
file=${ACL_FILE:?ACL_FILE: path of the mounted users.acl}
: "${REDIS_PASSWORD:?REDIS_PASSWORD: the default user password}"
port=${REDIS_PORT:-6379}
interval=${ACL_RELOAD_INTERVAL:-5}
grace=${ACL_REVOKE_GRACE:-600}

cli() { REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning "$@"; }
file_digest() { sha256sum "$file" | cut -d" " -f1; }
now() { printf '%(%s)T' -1; }

declare -A passwords=()  # user -> digest of its password words, as last applied
declare -A revoke_at=()  # user -> when to close its old connections
declare -A changed_at=() # user -> when its passwords changed: connections at least this old go

# "user digest" per user line of the file; the password words are `>clear` and `#sha256`.
password_digests() {
    local user words word secret
    while read -r _ user rest; do
        read -r -a words <<< "$rest"
        secret=
        for word in "${words[@]}"; do
            [[ $word == '>'* || $word == '#'* ]] && secret+="$word "
        done
        printf '%s %s\n' "$user" "$(printf '%s' "$secret" | sha256sum | cut -d" " -f1)"
    done < <(grep '^user ' "$file")
}

remember_passwords() {
    local user digest rotated=() t
    t=$(now)
    declare -A seen=()
    while read -r user digest; do
        seen[$user]=1
        if [[ $user != default && -n ${passwords[$user]:-} && ${passwords[$user]} != "$digest" ]]; then
            changed_at[$user]=$t
            revoke_at[$user]=$((t + grace))
            rotated+=("$user")
        fi
        passwords[$user]=$digest
    done < <(password_digests)
    for user in "${!passwords[@]}"; do
        [[ -n ${seen[$user]:-} ]] || unset "passwords[$user]" "revoke_at[$user]" "changed_at[$user]"
    done
    if [[ ${#rotated[@]} -gt 0 ]]; then
        echo "acl-reload: password changed for ${rotated[*]} at $t: their connections opened until then close at $((t + grace))"
    fi
}

apply() {
    local out user
    out=$(sed -n 's/^user \([^ ]*\) \(.*\)$/ACL SETUSER \1 reset \2/p' "$file" | cli 2>&1)
    # Each line applies on its own: a password changed on a line Redis took is revoked even when
    # another line was refused.
    remember_passwords
    if printf '%s\n' "$out" | grep -qv '^OK$'; then
        echo "acl-reload: Redis refused part of $file (the other lines were applied): $out" >&2
        return 1
    fi
    for user in $(cli ACL USERS); do
        grep -q "^user $user " "$file" || cli ACL DELUSER "$user" > /dev/null
    done
    echo "acl-reload: applied $file ($1)"
}

# Close the connections of users whose grace period is over and that predate their change.
revoke_due() {
    local user t line id age closed
    t=$(now)
    for user in "${!revoke_at[@]}"; do
        ((t >= revoke_at[$user])) || continue
        closed=0
        while read -r line; do
            [[ " $line " == *" user=$user "* ]] || continue
            [[ $line =~ (^| )id=([0-9]+) ]] || continue
            id=${BASH_REMATCH[2]}
            [[ $line =~ \ age=([0-9]+) ]] || continue
            age=${BASH_REMATCH[1]}
            # Opened no later than a second after the change (clock granularity): old password.
            if ((t - age <= changed_at[$user] + 1)); then
                cli CLIENT KILL ID "$id" > /dev/null && closed=$((closed + 1))
            fi
        done < <(cli CLIENT LIST)
        unset "revoke_at[$user]" "changed_at[$user]"
        echo "acl-reload: closed $closed connection(s) of $user opened before its password changed"
    done
}

applied=$(file_digest)
refused=
remember_passwords
while sleep "$interval"; do
    current=$(file_digest)
    if [[ $current != "$applied" && $current != "$refused" ]]; then
        if apply "$current"; then applied=$current; else refused=$current; fi
    fi
    revoke_due
done
