// The strat extension: starts `strat lsp` (the path is configurable) and connects VS Code to it.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('strat');
  const command = config.get('server.path') || 'strat';
  const args = ['lsp', ...(config.get('server.extraArgs') || [])];
  return { command, args, transport: TransportKind.stdio };
}

async function start() {
  client = new LanguageClient('strat', 'strat language server', serverOptions(), {
    documentSelector: [
      { scheme: 'file', language: 'strat' },
      { scheme: 'untitled', language: 'strat' },
    ],
    // Files changed outside the editor (imports, other files of the workspace) are re-read.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.strat') },
  });
  try {
    await client.start();
  } catch (err) {
    const path = vscode.workspace.getConfiguration('strat').get('server.path') || 'strat';
    vscode.window.showErrorMessage(
      `Could not start the strat language server (\`${path} lsp\`): ${err.message}. ` +
        'Install strat or set `strat.server.path`.'
    );
  }
}

async function restart() {
  if (client) {
    await client.stop();
  }
  await start();
}

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('strat.restartServer', restart));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('strat.server')) {
        restart();
      }
    })
  );
  return start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
