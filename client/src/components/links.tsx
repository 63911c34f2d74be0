import { Anchor, Button, type AnchorProps, type ButtonProps } from "@mantine/core";
import { createLink, type LinkComponent } from "@tanstack/react-router";
import { forwardRef, type AnchorHTMLAttributes } from "react";

/** Mantine's anchor and button as the router's links: typed addresses and params, preloaded on hover or focus. */
const MantineAnchor = forwardRef<HTMLAnchorElement, AnchorProps & AnchorHTMLAttributes<HTMLAnchorElement>>((props, ref) => (
  <Anchor ref={ref} {...props} />
));

const MantineButtonAnchor = forwardRef<HTMLAnchorElement, ButtonProps & AnchorHTMLAttributes<HTMLAnchorElement>>((props, ref) => (
  <Button component="a" ref={ref} {...props} />
));

const RoutedAnchor = createLink(MantineAnchor);
const RoutedButton = createLink(MantineButtonAnchor);

export const AnchorLink: LinkComponent<typeof MantineAnchor> = (props) => <RoutedAnchor preload="intent" {...props} />;
export const ButtonLink: LinkComponent<typeof MantineButtonAnchor> = (props) => <RoutedButton preload="intent" {...props} />;
