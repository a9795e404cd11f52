#!/usr/bin/env node
// Writes schema/viewer.v1.schema.json from kernel-lib's schema object (the single source).
// Needs kernel-lib built (npm run build:lib). test/extension/contract.test.ts checks they agree.
const fs = require('fs');
const path = require('path');
const { viewerSchemaV1 } = require('../../kernel-lib/dist/browser/viewer/schema.js');
const out = path.resolve(__dirname, '../../schema/viewer.v1.schema.json');
fs.writeFileSync(out, JSON.stringify(viewerSchemaV1, null, 2) + '\n');
console.log(`wrote ${out}`);
