#!/bin/sh
# An sbx from before dial-stdio, as another host may have it: it knows no such command.
echo "sbx: unknown command '$1' (see 'sbx help')" >&2
exit 2
