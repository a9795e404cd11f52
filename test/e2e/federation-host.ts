/**
 * A minimal module-federation host for the BUILT labextension (extension/labextension): it offers
 * the real JupyterLab packages the extension consumes as shared singletons (the share scope a
 * JupyterLab page sets up), loads `remoteEntry.*.js`, gets `./extension`, and activates the plugin
 * against a real RenderMimeRegistry and DocumentRegistry. The application shell itself is not
 * needed by this plugin and is absent (JupyterLab cannot be installed here).
 */
import * as apputils from '@jupyterlab/apputils';
import * as docregistry from '@jupyterlab/docregistry';
import * as rendermime from '@jupyterlab/rendermime';
import * as settingregistry from '@jupyterlab/settingregistry';
import * as luminoWidgets from '@lumino/widgets';
import * as luminoMessaging from '@lumino/messaging';
import * as luminoCoreutils from '@lumino/coreutils';
import * as luminoSignaling from '@lumino/signaling';

type Factory = () => unknown;
type ShareScope = Record<string, Record<string, { get: () => Promise<Factory>; loaded: number; from: string; eager: boolean }>>;

function provide(scope: ShareScope, name: string, version: string, mod: unknown): void {
  scope[name] = { [version]: { get: () => Promise.resolve(() => mod), loaded: 1, from: 'federation-host', eager: true } };
}

async function loadBuiltExtension(remoteEntry: string, versions: Record<string, string>): Promise<{ plugin: { id: string; activate: (...args: unknown[]) => unknown }; rendermime: rendermime.RenderMimeRegistry; docRegistry: docregistry.DocumentRegistry }> {
  const scope: ShareScope = {};
  provide(scope, '@jupyterlab/apputils', versions['@jupyterlab/apputils'], apputils);
  provide(scope, '@jupyterlab/docregistry', versions['@jupyterlab/docregistry'], docregistry);
  provide(scope, '@jupyterlab/rendermime', versions['@jupyterlab/rendermime'], rendermime);
  provide(scope, '@jupyterlab/settingregistry', versions['@jupyterlab/settingregistry'], settingregistry);
  provide(scope, '@lumino/widgets', versions['@lumino/widgets'], luminoWidgets);
  provide(scope, '@lumino/messaging', versions['@lumino/messaging'], luminoMessaging);
  provide(scope, '@lumino/coreutils', versions['@lumino/coreutils'], luminoCoreutils);
  provide(scope, '@lumino/signaling', versions['@lumino/signaling'], luminoSignaling);
  await new Promise<void>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = remoteEntry;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${remoteEntry}`));
    document.head.appendChild(s);
  });
  const container = (window as unknown as { _JUPYTERLAB: Record<string, { init(s: ShareScope): Promise<void>; get(m: string): Promise<Factory> }> })._JUPYTERLAB['anomaly-lab-jupyterlab'];
  await container.init(scope);
  // what JupyterLab does with `_build.style`: load the extension's CSS module
  (await container.get('./style'))();
  const mod = (await container.get('./extension'))() as { default: { id: string; activate: (...args: unknown[]) => unknown } };
  const registry = new rendermime.RenderMimeRegistry({ initialFactories: rendermime.standardRendererFactories });
  const docRegistry = new docregistry.DocumentRegistry();
  mod.default.activate({ docRegistry }, registry, null, null);
  return { plugin: mod.default, rendermime: registry, docRegistry };
}

async function renderWith(registry: rendermime.RenderMimeRegistry, mime: string, data: unknown): Promise<void> {
  const renderer = registry.createRenderer(mime);
  luminoWidgets.Widget.attach(renderer, document.getElementById('host')!);
  await renderer.renderModel(new rendermime.MimeModel({ data: { [mime]: data as never } }));
  // plotly draws asynchronously after renderModel resolves its own queue
}

(window as unknown as { fedTest: unknown }).fedTest = { loadBuiltExtension, renderWith, ready: true };
