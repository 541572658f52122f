// Command herofleet-plugin-config-file is the config-file hook plugin: it renders a config file for an app from a
// template with the host, the URLs of the apps it `uses` and a secret from the agent's secrets directory, e.g.
// the voice widget's connection to the admin VM's voice engine with the tester's own token.
//
//	hooks:
//	  - plugin: config-file
//	    on: pre-start
//	    with:
//	      path: "${data}/voice.toml"
//	      secret: voice-token            # a file in the agent's secrets_dir; never in the fleet repo
//	      env: HERO_VOICE_CONFIG         # optional: the app's binaries get HERO_VOICE_CONFIG=<path>
//	      template: |
//	        engine = {{ use "voice" | quote }}
//	        token  = {{ .Secret | quote }}
//	        host   = {{ .Host | quote }}
//
// The file is written atomically with mode 0600 and must stay inside ${data}. The secret appears only in that
// file: never in messages, errors or logs.
package main
