/** Commands that open inbound TCP on one firewall, run on the server's machine. */
export interface FirewallRecipe {
  /** Which system and tool. */
  firewall: string;
  /** Shell commands, in order. */
  commands: string[];
  /** When the commands apply, or what they leave out. */
  note?: string;
}

/**
 * The commands that let inbound TCP on `port` through the usual host firewalls. They are printed
 * when a connect times out, which nearly always means a firewall drops the SYN packets.
 */
export function firewallRecipes(port: number): FirewallRecipe[] {
  const name = `tcpchat ${port}`;
  return [
    {
      firewall: "Linux, ufw (Ubuntu, Debian)",
      commands: [`sudo ufw allow ${port}/tcp`, "sudo ufw status"],
    },
    {
      firewall: "Linux, firewalld (Fedora, RHEL, CentOS)",
      commands: [
        `sudo firewall-cmd --permanent --add-port=${port}/tcp`,
        "sudo firewall-cmd --reload",
      ],
    },
    {
      firewall: "Linux, nftables",
      commands: [`sudo nft insert rule inet filter input tcp dport ${port} accept`],
      note: "Assumes the usual `inet filter` table with an `input` chain; add the rule to /etc/nftables.conf to keep it after a reboot.",
    },
    {
      firewall: "Linux, iptables",
      commands: [`sudo iptables -I INPUT -p tcp --dport ${port} -j ACCEPT`],
    },
    {
      firewall: "macOS, application firewall",
      commands: [
        'sudo /usr/libexec/ApplicationFirewall/socketfilterfw --add "$(command -v node)"',
        'sudo /usr/libexec/ApplicationFirewall/socketfilterfw --unblockapp "$(command -v node)"',
      ],
      note: "Or answer Allow when macOS asks whether node may accept incoming connections.",
    },
    {
      firewall: "macOS, pf",
      commands: [
        `echo "pass in proto tcp from any to any port ${port}" | sudo pfctl -a com.apple/${name.replace(" ", "-")} -f -`,
        "sudo pfctl -e",
      ],
    },
    {
      firewall: "Windows, Command Prompt (as Administrator)",
      commands: [
        `netsh advfirewall firewall add rule name="${name}" dir=in action=allow protocol=TCP localport=${port}`,
      ],
    },
    {
      firewall: "Windows, PowerShell (as Administrator)",
      commands: [
        `New-NetFirewallRule -DisplayName "${name}" -Direction Inbound -Protocol TCP -LocalPort ${port} -Action Allow`,
      ],
    },
    {
      firewall: "Cloud VM (AWS, GCP, Azure, ...)",
      commands: [],
      note: `Also allow inbound TCP ${port} in the instance's security group or network firewall rules.`,
    },
  ];
}
