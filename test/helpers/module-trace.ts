// Preloaded with `node --import`: prints one `module <how> <specifier> <resolved>` line on stderr per
// resolution, so a test can see which packages a process loads and how (ESM import or require).
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const how = context.conditions?.includes('require') ? 'require' : 'import';
    process.stderr.write(`module ${how} ${specifier} ${resolved.url} ${context.parentURL ?? ''}\n`);
    return resolved;
  },
});
