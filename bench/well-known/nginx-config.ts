// nginx configuration reproducing the seed deployment's well-known container.
import { join } from 'node:path';

/** The domain the benchmark's documents name. */
export const DOMAIN = 'matrix.example.org';

/** The seed's nginx server block, verbatim apart from the domain and the listen address. */
export function seedServerBlock(port: number): string {
  return `server {
    listen 127.0.0.1:${port};
    server_name ${DOMAIN};

    # Well-known Matrix client discovery with Element Call support
    location /.well-known/matrix/client {
        return 200 '{
          "m.homeserver": {"base_url": "https://${DOMAIN}"},
          "org.matrix.msc4143.rtc_foci": [
            {
              "type": "livekit",
              "livekit_service_url": "https://${DOMAIN}/livekit-jwt"
            }
          ]
        }';
        types { } default_type "application/json; charset=utf-8";
        add_header "Access-Control-Allow-Origin" *;
        add_header "Access-Control-Allow-Methods" "GET, POST, PUT, DELETE, OPTIONS";
        add_header "Access-Control-Allow-Headers" "Origin, X-Requested-With, Content-Type, Accept, Authorization";
    }

    # Well-known Matrix server discovery
    location /.well-known/matrix/server {
        return 200 '{"m.server": "${DOMAIN}:443"}';
        types { } default_type "application/json; charset=utf-8";
        add_header "Access-Control-Allow-Origin" *;
    }
}`;
}

/**
 * The main configuration of the official nginx image the seed ran (one worker, access log in
 * the "main" format, sendfile, keepalive 65 s), with every path inside `dir`.
 */
export function nginxConfig(dir: string, port: number, accessLog: boolean): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(dir, t)};`)
    .join('\n');
  return `worker_processes 1;
daemon off;
error_log ${join(dir, 'error.log')} notice;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                  '$status $body_bytes_sent "$http_referer" '
                  '"$http_user_agent" "$http_x_forwarded_for"';
  access_log ${accessLog ? `${join(dir, 'access.log')} main` : 'off'};
  sendfile on;
  keepalive_timeout 65;
${temp}
${seedServerBlock(port)}
}
`;
}
