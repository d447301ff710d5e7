import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * The nbtrack front-end plugin.
 *
 * For now it only announces itself; the runs sidebar is added here later.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:plugin',
  description: 'nbtrack: a Jupyter-native experiment tracker.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    console.log('JupyterLab extension nbtrack is activated!');
  }
};

export default plugin;
