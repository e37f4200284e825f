#!/bin/bash
# Sample deploy script with planted flaws (see README.md).
TARGET=$1
cd /srv/$TARGET
FILES=`ls *.tar.gz`
for f in $FILES; do
  tar xzf $f
done
rm -rf /srv/$TARGET/cache
echo "deployed to $TARGET"
