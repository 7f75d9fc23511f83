#!/usr/bin/env node
// The built CLI lives in dist/; this stub exists before the first build so npm can link the bin.
import '../dist/cli.js'
